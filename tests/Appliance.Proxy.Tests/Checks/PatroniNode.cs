using System.Diagnostics;
using System.Net.Http;
using System.Text.Json;
using Appliance.Lab;
using Appliance.TestKit;
using Tmds.Linux;

namespace Appliance.Proxy.Tests.Checks;

/// <summary>
/// One node of a stock Patroni cluster (Debian's <c>/usr/bin/patroni</c>, 3.0.2) on 127.0.0.1, for checking
/// our proxy's checks against the real thing: its REST API and PostgreSQL 15 on free ports, its folder under
/// the caller's temporary folder, owned by <c>postgres</c>, as whom it runs (PostgreSQL refuses root).
/// Dispose stops the Patroni process it started (by PID) and any postmaster it left behind (by the PID in
/// postmaster.pid); the caller's TempDir removes the folder.
/// </summary>
sealed class PatroniNode : IAsyncDisposable
{
    public const string Patroni = "/usr/bin/patroni";
    static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };

    PatroniNode(string name, string dir, ChildProcess process, int apiPort, int pgPort)
    {
        Name = name;
        Dir = dir;
        Process = process;
        ApiPort = apiPort;
        PgPort = pgPort;
    }

    public string Name { get; }
    public string Dir { get; }
    public ChildProcess Process { get; }
    public int ApiPort { get; }
    public int PgPort { get; }
    public string ApiUrl => $"http://127.0.0.1:{ApiPort}";
    public string DataDir => Path.Combine(Dir, "data");
    public string LogPath => Path.Combine(Dir, "patroni.log");

    /// <summary>Writes the node's patroni.yml and starts Patroni; does not wait for anything.</summary>
    public static PatroniNode Start(string parentDir, string name, string scope, int etcdPort, bool replicaOnly = false)
    {
        var dir = Path.Combine(parentDir, name);
        Directory.CreateDirectory(dir);
        Chown(dir);
        int api = FreePorts.Next(), pg = FreePorts.Next();
        while (pg == api) pg = FreePorts.Next();
        var config = Path.Combine(dir, "patroni.yml");
        // Trust on loopback only: the test cluster has no secret worth a password, and cloning needs no .pgpass dance.
        File.WriteAllText(config, $"""
            scope: {scope}
            namespace: /service/
            name: {name}
            restapi:
              listen: 127.0.0.1:{api}
              connect_address: 127.0.0.1:{api}
            etcd3:
              hosts: 127.0.0.1:{etcdPort}
            bootstrap:
              dcs:
                ttl: 20
                loop_wait: 1
                retry_timeout: 5
                postgresql:
                  use_pg_rewind: false
                  parameters:
                    max_connections: 20
                    shared_buffers: 16MB
                    wal_level: replica
                    hot_standby: 'on'
                    max_wal_senders: 5
              initdb:
                - encoding: UTF8
              pg_hba:
                - local all all trust
                - host all all 127.0.0.1/32 trust
                - host replication all 127.0.0.1/32 trust
            postgresql:
              listen: 127.0.0.1:{pg}
              connect_address: 127.0.0.1:{pg}
              data_dir: {Path.Combine(dir, "data")}
              bin_dir: /usr/lib/postgresql/15/bin
              pgpass: {Path.Combine(dir, "pgpass")}
              authentication:
                superuser:
                  username: postgres
                  password: patroni-test
                replication:
                  username: replicator
                  password: patroni-test
              parameters:
                unix_socket_directories: '{dir}'
            watchdog:
              mode: 'off'
            tags:
              nofailover: {(replicaOnly ? "true" : "false")}
              noloadbalance: {(replicaOnly ? "true" : "false")}
            """);
        Chown(config);
        // setpriv execs Patroni itself, so the PID we hold is Patroni's (as OsUser does for PostgreSQL).
        var process = ChildProcess.Start($"patroni-{name}", "setpriv",
            ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", Patroni, config],
            Path.Combine(dir, "patroni.log"), new Dictionary<string, string> { ["HOME"] = dir });
        return new PatroniNode(name, dir, process, api, pg);
    }

    /// <summary>The HTTP status of <c>OPTIONS path</c>; 0 when the API does not answer.</summary>
    public async Task<int> OptionsAsync(string path)
    {
        try
        {
            using var req = new HttpRequestMessage(HttpMethod.Options, ApiUrl + path);
            using var resp = await Http.SendAsync(req);
            return (int)resp.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return 0;
        }
    }

    /// <summary><c>GET /patroni</c>'s state and role, or null when the API does not answer.</summary>
    public async Task<(string State, string Role)?> StateAsync()
    {
        try
        {
            using var doc = JsonDocument.Parse(await Http.GetStringAsync(ApiUrl + "/patroni"));
            var root = doc.RootElement;
            return (root.TryGetProperty("state", out var s) ? s.GetString() ?? "" : "", root.TryGetProperty("role", out var r) ? r.GetString() ?? "" : "");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Waits for <paramref name="condition"/>; on a timeout the exception carries Patroni's log tail.</summary>
    public async Task WaitAsync(string what, Func<Task<bool>> condition, TimeSpan deadline)
    {
        try
        {
            await Wait.UntilAsync($"{Name}: {what}", condition, deadline);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n--- {LogPath} ---\n{Process.LogTail(40)}", e);
        }
    }

    /// <summary>SIGTERM: Patroni stops its PostgreSQL and exits (SIGKILL after the grace).</summary>
    public Task StopAsync() => Process.StopAsync(TimeSpan.FromSeconds(30));

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        // Patroni stops PostgreSQL on SIGTERM; after a SIGKILL the postmaster would live on: it is ours to end.
        if (PostmasterPid() is int pid)
        {
            _ = LibC.kill(pid, LibC.SIGQUIT);
            for (int i = 0; i < 100 && Directory.Exists($"/proc/{pid}"); i++) await Task.Delay(100);
            if (Directory.Exists($"/proc/{pid}")) _ = LibC.kill(pid, LibC.SIGKILL);
        }
    }

    int? PostmasterPid()
    {
        try
        {
            var first = File.ReadLines(Path.Combine(DataDir, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, out var pid) && Directory.Exists($"/proc/{pid}") ? pid : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    static void Chown(string path)
    {
        using var p = System.Diagnostics.Process.Start(new ProcessStartInfo("chown", ["postgres:postgres", path]) { UseShellExecute = false })!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"chown postgres {path} failed ({p.ExitCode})");
    }
}
