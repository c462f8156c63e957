using System.Text;
using System.Text.Json;
using Appliance.Cluster;
using Appliance.Configuration;
using Appliance.Etcd;
using Appliance.Simulator.Clock;
using Appliance.Simulator.Models;

namespace Appliance.Simulator.World;

/// <summary>What a run is made of: the cluster's settings, drawn from the seed.</summary>
public sealed record SimSettings
{
    public int Nodes { get; init; } = 3;
    public int Ttl { get; init; } = 10;
    public int LoopWait { get; init; } = 1;
    public int RetryTimeout { get; init; } = 4;
    public bool SynchronousMode { get; init; } = true;
    public bool WatchdogDevice { get; init; } = true;
    public long MaximumLagOnFailover { get; init; } = 1_048_576;
    public LeaderRenewal Renewal { get; init; } = LeaderRenewal.Conditional;

    public override string ToString()
        => $"ttl {Ttl}, loop_wait {LoopWait}, retry_timeout {RetryTimeout}, synchronous_mode {(SynchronousMode ? "on" : "off")}, watchdog {(WatchdogDevice ? "device" : "none")}{(Renewal == LeaderRenewal.UnconditionalPut ? ", leader renewal: unconditional put" : "")}";
}

/// <summary>
/// The simulated cluster: the loop and its clock, the network, etcd, the database nodes, a client writing
/// through the proxy's routing rule, and the invariants, checked as the run goes.
/// </summary>
public sealed class SimWorld
{
    static readonly TimeSpan ReplicationTick = TimeSpan.FromMilliseconds(20);
    static readonly TimeSpan ClientTick = TimeSpan.FromMilliseconds(100);
    readonly StringBuilder _trace = new();
    readonly List<SimNode> _nodes = [];
    readonly HashSet<long> _acked = [];
    long _recordIds;
    int _pids = 1000;
    long _txIds;
    (string Node, long Timeline)? _lastWriter;

    public SimWorld(SimSettings settings)
    {
        Settings = settings;
        Loop = new SimLoop();
        Network = new SimNetwork();
        var hosts = Enumerable.Range(1, settings.Nodes).Select(i => $"10.0.0.{i}").ToList();
        Keys = new EtcdKeys("service", "sim");
        Etcd = new SimEtcd(this, hosts);
        for (int i = 0; i < settings.Nodes; i++)
            _nodes.Add(new SimNode(this, Config(settings, $"db{i + 1}", hosts[i], hosts), settings.WatchdogDevice, settings.Renewal));
        Checks = new Invariants(this);
        Etcd.Watch((key, _, value) =>
        {
            // The leader's published position, on the timeline it leads (the status write names no one).
            if (key != Keys.Status || value is null || Etcd.Get(Keys.Leader)?.Value.ToStringUtf8() is not { } leader || Postgres(leader) is not { Data: not null } pg) return;
            var optime = JsonSerializer.Deserialize(value, ClusterJson.Default.StatusData)?.Optime;
            if (optime is long o) Checks.Published(pg.Timeline, o);
        });
    }

    public SimSettings Settings { get; }
    public SimLoop Loop { get; }
    public SimNetwork Network { get; }
    public SimEtcd Etcd { get; }
    public EtcdKeys Keys { get; }
    public Invariants Checks { get; }
    public IReadOnlyList<SimNode> Nodes => _nodes;
    public IEnumerable<SimPostgres> AllPostgres => _nodes.Select(n => n.Postgres);
    public IReadOnlySet<long> AckedCommits => _acked;
    /// <summary>Commits acknowledged to the client.</summary>
    public int Acks { get; private set; }
    /// <summary>The highest timeline any promotion reached.</summary>
    public long MaxTimeline { get; private set; } = 1;
    /// <summary>Synchronous mode was turned off at some point (losses are then bounded by maximum_lag_on_failover, not zero).</summary>
    public bool AsyncAtSomePoint { get; set; }
    public string TraceText => _trace.ToString();
    public const string ClientHost = "client";

    public SimNode? Node(string name) => _nodes.FirstOrDefault(n => n.Name == name);
    public SimPostgres? Postgres(string name) => Node(name)?.Postgres;
    public long NextRecordId() => ++_recordIds;
    public int NextPid() => ++_pids;
    public string ShortKey(string key) => key.StartsWith(Keys.Prefix, StringComparison.Ordinal) ? key[Keys.Prefix.Length..] : key;

    public void Trace(string source, string message)
        => _trace.Append($"{Loop.Time.Elapsed.TotalSeconds,8:0.000} {source,-6} {message}\n");

    /// <summary>Boots every node and starts the models' clocks.</summary>
    public void Start()
    {
        foreach (var n in _nodes) n.Boot();
        Every(ReplicationTick, () =>
        {
            foreach (var pg in AllPostgres) pg.Replicate();
            foreach (var n in _nodes)
            {
                if (!n.Watchdog.Expired()) continue;
                Trace("world", $"the watchdog of {n.Name} fired: the host is reset");
                n.Crash();
                Loop.At(TimeSpan.FromSeconds(5), () => { if (n.HostDown) n.Boot(); });
            }
            Checks.Tick();
        });
        Every(TimeSpan.FromMilliseconds(100), Etcd.Tick);
        Every(ClientTick, ClientWrite);
    }

    void Every(TimeSpan period, Action action)
    {
        void Next()
        {
            action();
            Loop.At(period, Next);
        }
        Loop.At(period, Next);
    }

    /// <summary>The proxy's rule: the node the leader key names, when its health check (/primary) passes and the client reaches it.</summary>
    public SimNode? RoutedPrimary()
    {
        if (!Etcd.Members.Any(Etcd.CanServe)) return _routedLast;
        var leader = Etcd.Get(Keys.Leader)?.Value.ToStringUtf8();
        _routedLast = leader is null ? null : Node(leader);
        return _routedLast is { AgentResponsive: true, Postgres.IsPrimary: true } n && Network.Connected(ClientHost, n.Host) ? n : null;
    }

    SimNode? _routedLast;

    void ClientWrite()
    {
        if (RoutedPrimary() is not { } n) return;
        n.Postgres.Commit(++_txIds);
    }

    /// <summary>A primary released a commit to its client: the moment the loss and timeline invariants are checked.</summary>
    public void Acknowledged(SimPostgres by, long txId)
    {
        if (txId == 0) return;
        var writer = (by.Name, by.Timeline);
        if (_lastWriter != writer)
        {
            Checks.NewWriter(by, _acked);
            _lastWriter = writer;
        }
        Checks.OnAck(by, txId);
        _acked.Add(txId);
        Acks++;
    }

    public void Forget(IEnumerable<long> lost)
    {
        foreach (var t in lost) _acked.Remove(t);
    }

    public void Promoted(SimPostgres pg, long timeline)
    {
        Trace("world", $"{pg.Name} promoted to timeline {timeline}");
        MaxTimeline = Math.Max(MaxTimeline, timeline);
    }

    /// <summary>A one-off commit from the client, to see that writes are taken again (liveness).</summary>
    public Task<bool>? ProbeWrite() => RoutedPrimary()?.Postgres.Commit(++_txIds);

    static ApplianceConfig Config(SimSettings s, string name, string address, IEnumerable<string> hosts)
    {
        var toml = $"""
            [node]
            name = "{name}"
            address = "{address}"

            [cluster]
            scope = "sim"

            [etcd]
            endpoints = [{string.Join(", ", hosts.Select(h => $"\"http://{h}:2379\""))}]

            [agent]
            ttl = {s.Ttl}
            loop_wait = {s.LoopWait}
            retry_timeout = {s.RetryTimeout}
            maximum_lag_on_failover = {s.MaximumLagOnFailover}
            synchronous_mode = {(s.SynchronousMode ? "true" : "false")}

            [postgresql]
            data_dir = "/sim/{name}"

            [watchdog]
            mode = "{(s.WatchdogDevice ? "required" : "off")}"
            """;
        var r = ConfigLoader.LoadFromText([($"{name}.toml", toml)]);
        return r.Config ?? throw new InvalidOperationException($"simulator configuration refused: {string.Join("; ", r.Errors)}");
    }
}
