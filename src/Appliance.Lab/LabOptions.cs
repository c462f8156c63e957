namespace Appliance.Lab;

/// <summary>How to lay out a local cluster: every member on 127.0.0.1 with its own ports and data dir.</summary>
public sealed record LabOptions
{
    /// <summary>The folder everything goes into (removed on dispose). Must be traversable by the postgres user.</summary>
    public required string Root { get; init; }
    /// <summary>The agent to run: an executable, or <c>dotnet</c> with the dll as first argument.</summary>
    public required AgentCommand Agent { get; init; }
    public int Members { get; init; } = 3;
    public string Scope { get; init; } = "demo";
    public string Namespace { get; init; } = "/service";
    public int Ttl { get; init; } = 30;
    public int LoopWait { get; init; } = 10;
    public int RetryTimeout { get; init; } = 10;
    public int PrimaryStartTimeout { get; init; } = 60;
    /// <summary>Bootstrap the cluster with <c>synchronous_mode</c> on: commits wait for a synchronous standby.</summary>
    public bool SynchronousMode { get; init; }
    public string SuperuserPassword { get; init; } = "appliance-demo-superuser";
    public string ReplicationPassword { get; init; } = "appliance-demo-replication";
    /// <summary>Basic-auth user and password for the agents' unsafe REST endpoints, when set.</summary>
    public (string User, string Password)? RestApiCredentials { get; init; }
    /// <summary>Put a <see cref="TcpRelay"/> between each agent and etcd, so a test can cut one node off the store.</summary>
    public bool RelayEtcd { get; init; }
    /// <summary>Extra TOML appended to one member's configuration (by name), e.g. tags.</summary>
    public IReadOnlyDictionary<string, string> ExtraToml { get; init; } = new Dictionary<string, string>();
}

/// <summary>The agent executable and the arguments that come before ours.</summary>
public sealed record AgentCommand(string File, IReadOnlyList<string> PrefixArgs)
{
    /// <summary>
    /// The agent from <c>APPLIANCE_AGENT</c> when set; else, when <paramref name="preferPublished"/>, the
    /// AOT binary <c>just publish</c> leaves in <c>artifacts/bin</c>; else the build output (tests use it).
    /// </summary>
    public static AgentCommand Locate(string repoRoot, bool preferPublished)
    {
        if (Environment.GetEnvironmentVariable("APPLIANCE_AGENT") is { Length: > 0 } env)
            return new(env, []);
        var published = Path.Combine(repoRoot, "artifacts", "bin", "appliance-agent");
        if (preferPublished && System.IO.File.Exists(published)) return new(published, []);
        foreach (var config in new[] { "Debug", "Release" })
        {
            var dll = Path.Combine(repoRoot, "src", "Appliance.Agent", "bin", config, "net10.0", "appliance-agent.dll");
            if (System.IO.File.Exists(dll)) return new("dotnet", [dll]);
        }
        throw new FileNotFoundException("no appliance-agent found: run `just publish` or `dotnet build` first, or set APPLIANCE_AGENT");
    }
}

/// <summary>Where things are in this checkout.</summary>
public static class Repo
{
    /// <summary>The folder holding Appliance.sln, searched upwards from <paramref name="start"/> (default: the current directory, then this program's folder).</summary>
    public static string Root(string? start = null)
    {
        foreach (var from in new[] { start, Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = from is null ? null : new DirectoryInfo(from); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Appliance.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("not inside the Appliance repository (no Appliance.sln above here)");
    }
}
