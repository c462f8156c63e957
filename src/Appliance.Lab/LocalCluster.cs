using System.Net.Http;
using System.Text;
using System.Text.Json;
using Tmds.Linux;

namespace Appliance.Lab;

/// <summary>
/// A whole cluster on this machine's loopback: one real etcd and N members, each a PostgreSQL 15
/// run by an <c>appliance-agent</c> with the TOML this class writes. Used by the demo and the
/// cluster tests. Disposing it stops every process it started (by PID) and removes its folder.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(2) };
    public LabOptions Options { get; }
    public EtcdProcess Etcd { get; }
    public IReadOnlyList<LabMember> Members { get; }

    LocalCluster(LabOptions o, EtcdProcess etcd, IReadOnlyList<LabMember> members)
    {
        Options = o;
        Etcd = etcd;
        Members = members;
    }

    public LabMember this[string name] => Members.First(m => m.Name == name);

    /// <summary>Lays out the folders and configurations, starts etcd and every agent. Does not wait for the cluster to form.</summary>
    public static async Task<LocalCluster> StartAsync(LabOptions o, CancellationToken ct = default)
    {
        Directory.CreateDirectory(o.Root);
        // PostgreSQL runs as the postgres user: it must be able to walk into the root.
        File.SetUnixFileMode(o.Root, (UnixFileMode)0b111_101_101);
        var ports = LoopbackPorts.Free(2 + 2 * o.Members);
        var etcd = new EtcdProcess(Path.Combine(o.Root, "etcd"), ports[0], ports[1]);
        var members = Enumerable.Range(1, o.Members).Select(i => new LabMember
        {
            Name = $"db{i}",
            PgPort = ports[2 * i],
            ApiPort = ports[2 * i + 1],
            Dir = Path.Combine(o.Root, $"db{i}"),
        }).ToList();
        var cluster = new LocalCluster(o, etcd, members);
        try
        {
            await etcd.StartAsync(TimeSpan.FromSeconds(30), ct);
            foreach (var m in members)
            {
                if (o.RelayEtcd) m.EtcdRelay = new TcpRelay(etcd.ClientPort);
                Directory.CreateDirectory(m.Dir);
                File.SetUnixFileMode(m.Dir, (UnixFileMode)0b111_101_101);
                await File.WriteAllTextAsync(m.ConfigPath, cluster.ConfigFor(m), ct);
                File.SetUnixFileMode(m.ConfigPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                cluster.StartAgent(m.Name);
            }
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The TOML a member's agent runs with.</summary>
    public string ConfigFor(LabMember m)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# written by the Appliance lab for {m.Name}");
        sb.AppendLine("[node]").AppendLine($"name = \"{m.Name}\"").AppendLine("address = \"127.0.0.1\"");
        sb.AppendLine("[cluster]").AppendLine($"scope = \"{Options.Scope}\"").AppendLine($"namespace = \"{Options.Namespace}\"");
        var etcd = m.EtcdRelay is { } relay ? $"http://127.0.0.1:{relay.Port}" : Etcd.Endpoint;
        sb.AppendLine("[etcd]").AppendLine($"endpoints = [\"{etcd}\"]");
        sb.AppendLine("[agent]").AppendLine($"ttl = {Options.Ttl}").AppendLine($"loop_wait = {Options.LoopWait}")
            .AppendLine($"retry_timeout = {Options.RetryTimeout}").AppendLine($"primary_start_timeout = {Options.PrimaryStartTimeout}");
        if (Options.SynchronousMode) sb.AppendLine("synchronous_mode = true");
        sb.AppendLine("[postgresql]").AppendLine($"data_dir = \"{m.DataDir}\"").AppendLine("listen = \"127.0.0.1\"").AppendLine($"port = {m.PgPort}");
        sb.AppendLine("[postgresql.parameters]").AppendLine("shared_buffers = \"32MB\"").AppendLine("max_connections = 50");
        sb.AppendLine("[postgresql.superuser]").AppendLine("username = \"postgres\"").AppendLine($"password = \"{Options.SuperuserPassword}\"");
        sb.AppendLine("[postgresql.replication]").AppendLine("username = \"replicator\"").AppendLine($"password = \"{Options.ReplicationPassword}\"");
        sb.AppendLine("[restapi]").AppendLine($"listen = \"127.0.0.1:{m.ApiPort}\"");
        if (Options.RestApiCredentials is var (user, password)) sb.AppendLine($"username = \"{user}\"").AppendLine($"password = \"{password}\"");
        if (Options.ExtraToml.TryGetValue(m.Name, out var extra)) sb.AppendLine(extra);
        return sb.ToString();
    }

    /// <summary>
    /// A configuration file for the real <c>patronictl</c> (Debian's patroni package) pointing at this
    /// cluster's etcd: patronictl 3.0.2 has no etcd3:// URL scheme, so operators give it a file.
    /// </summary>
    public string WritePatronictlConfig()
    {
        var path = Path.Combine(Options.Root, "patronictl.yaml");
        File.WriteAllText(path, $"scope: {Options.Scope}\nnamespace: {Options.Namespace}/\netcd3:\n  hosts: 127.0.0.1:{Etcd.ClientPort}\n");
        return path;
    }

    /// <summary>Starts (or restarts) a member's agent.</summary>
    public void StartAgent(string name)
    {
        var m = this[name];
        if (m.Agent is { HasExited: false }) throw new InvalidOperationException($"{name}'s agent already runs");
        m.Agent = ChildProcess.Start($"{name}-agent", Options.Agent.File, [.. Options.Agent.PrefixArgs, "--config", m.ConfigPath], m.AgentLog);
    }

    /// <summary>Signals a member's agent (SIGKILL for a crash, SIGTERM for a clean stop).</summary>
    public void SignalAgent(string name, int signal) => this[name].Agent?.Signal(signal);

    /// <summary>Kills a member's postmaster by the PID in its postmaster.pid.</summary>
    public void KillPostgres(string name, int signal)
    {
        if (this[name].PostmasterPid is int pid) _ = LibC.kill(pid, signal);
    }

    /// <summary>The member's <c>/patroni</c> answer, or null when its API does not answer.</summary>
    public async Task<JsonDocument?> StatusAsync(string name, CancellationToken ct = default)
    {
        try
        {
            var body = await _http.GetStringAsync($"{this[name].ApiUrl}/patroni", ct);
            return JsonDocument.Parse(body);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>The HTTP status of a health endpoint of a member (0 when it does not answer).</summary>
    public async Task<int> HealthAsync(string name, string path, CancellationToken ct = default)
    {
        try
        {
            using var req = new HttpRequestMessage(HttpMethod.Options, $"{this[name].ApiUrl}{path}");
            using var resp = await _http.SendAsync(req, ct);
            return (int)resp.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    /// <summary>The member whose API answers 200 on <c>/primary</c>, when exactly one does.</summary>
    public async Task<LabMember?> PrimaryAsync(CancellationToken ct = default)
    {
        var codes = await Task.WhenAll(Members.Select(m => HealthAsync(m.Name, "/primary", ct)));
        var primaries = Members.Where((m, i) => codes[i] == 200).ToList();
        return primaries.Count == 1 ? primaries[0] : null;
    }

    /// <summary>A libpq connection string for a member, as the superuser.</summary>
    public string ConnectionString(string name, string database = "postgres")
        => $"Host=127.0.0.1;Port={this[name].PgPort};Username=postgres;Password={Options.SuperuserPassword};Database={database};Timeout=5;Pooling=false";

    /// <summary>Stops every agent (which stops its PostgreSQL), kills any postmaster left, stops etcd and removes the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(Members.Where(m => m.Agent is not null).Select(m => m.Agent!.StopAsync(TimeSpan.FromSeconds(30))));
        foreach (var m in Members)
        {
            // A postmaster outlives a SIGKILLed agent by design; the lab still owns it.
            if (m.PostmasterPid is int pid)
            {
                _ = LibC.kill(pid, LibC.SIGQUIT);
                for (var i = 0; i < 100 && Directory.Exists($"/proc/{pid}"); i++) await Task.Delay(100);
                if (Directory.Exists($"/proc/{pid}")) _ = LibC.kill(pid, LibC.SIGKILL);
            }
        }
        foreach (var m in Members)
            if (m.EtcdRelay is { } relay) await relay.DisposeAsync();
        await Etcd.DisposeAsync();
        _http.Dispose();
        // APPLIANCE_LAB_KEEP=1 keeps the folder (logs, data) for a post-mortem; the processes are gone either way.
        if (Environment.GetEnvironmentVariable("APPLIANCE_LAB_KEEP") == "1") return;
        try { Directory.Delete(Options.Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
