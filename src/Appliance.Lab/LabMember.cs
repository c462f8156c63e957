namespace Appliance.Lab;

/// <summary>One database node of the local cluster: its ports, folders and the agent process.</summary>
public sealed class LabMember
{
    public required string Name { get; init; }
    public required int PgPort { get; init; }
    public required int ApiPort { get; init; }
    public required string Dir { get; init; }
    public string DataDir => Path.Combine(Dir, "data");
    public string ConfigPath => Path.Combine(Dir, "appliance.toml");
    public string AgentLog => Path.Combine(Dir, "agent.log");
    public string ApiUrl => $"http://127.0.0.1:{ApiPort}";
    public ChildProcess? Agent { get; internal set; }
    /// <summary>This member's path to etcd, when the lab relays it (<see cref="LabOptions.RelayEtcd"/>).</summary>
    public TcpRelay? EtcdRelay { get; internal set; }

    /// <summary>The postmaster's PID from <c>postmaster.pid</c>, when it runs.</summary>
    public int? PostmasterPid => Postmaster.PidOf(DataDir);
}
