using System.Globalization;
using Appliance.Lab;
using Appliance.Lab.Balancer;
using Appliance.Lab.Netns;

namespace Appliance.Bench.Proxy;

/// <summary>Where pgbench connects: PostgreSQL itself, or a proxy process in front of it.</summary>
public interface IBenchTarget : IAsyncDisposable
{
    /// <summary>The row name: "direct", "haproxy", "ours-copy", "ours-splice", "ours-sockmap", "ours-auto".</summary>
    string Name { get; }
    int Port { get; }
    /// <summary>The proxy's process, whose CPU and memory are measured; null for direct.</summary>
    int? Pid { get; }
    string LogTail();
}

/// <summary>pgbench straight to PostgreSQL: the baseline every ratio is taken against.</summary>
public sealed class DirectTarget(int port) : IBenchTarget
{
    public string Name => "direct";
    public int Port => port;
    public int? Pid => null;
    public string LogTail() => "";
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>A proxy process the benchmark started; stopped by its PID (SIGTERM, then SIGKILL) on dispose.</summary>
public sealed class ProxyTarget(string name, int port, ChildProcess process) : IBenchTarget
{
    public string Name => name;
    public int Port => port;
    public int? Pid => process.HasExited ? null : process.Pid;
    public bool HasExited => process.HasExited;
    public string LogTail() => process.LogTail(30);
    public ValueTask DisposeAsync() => process.DisposeAsync();

    /// <summary>Waits until <c>select 1</c> through it answers (30 s); on failure it is stopped and the reason returned.</summary>
    public async Task<string?> ReadyAsync(CancellationToken ct)
    {
        if (await BenchPostgres.SelectOneAsync(port, TimeSpan.FromSeconds(30), () => process.HasExited, ct)) return null;
        var why = process.HasExited
            ? $"{name} exited ({process.ExitCode}) before serving a query:\n{LogTail()}"
            : $"select 1 through {name} (127.0.0.1:{port}) did not succeed within 30 s (does this binary serve [[proxy.listener]] yet?); its log:\n{LogTail()}";
        await DisposeAsync();
        return why;
    }
}

/// <summary>Starts the proxies under test, each with a generated configuration in its own folder.</summary>
public static class BenchProxies
{
    static async Task<string> BalancerMetricsAsync(int port, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try { return await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"), ct); }
        catch (HttpRequestException e) { return e.Message; }
    }

    const string Haproxy = "/usr/sbin/haproxy";

    /// <summary>
    /// Debian's HAProxy in TCP mode, configured like Patroni's usual haproxy.cfg (timeouts, maxconn,
    /// one server with a check) with the seed's connect timeout; the check is pgsql-check against
    /// PostgreSQL itself (there is no REST API here) and cannot take the only server down during a run.
    /// No logging: none of the other targets logs per connection either. Threads: HAProxy's default,
    /// one per core, like our one accept loop per core.
    /// </summary>
    public static async Task<(ProxyTarget? Target, string Why)> StartHaproxyAsync(string dir, int pgPort, int port, CancellationToken ct)
    {
        if (!File.Exists(Haproxy)) return (null, $"{Haproxy} is missing (apt-get install haproxy; scripts/setup.sh installs it)");
        Directory.CreateDirectory(dir);
        var cfg = Path.Combine(dir, "haproxy.cfg");
        await File.WriteAllTextAsync(cfg, string.Create(CultureInfo.InvariantCulture, $"""
            global
                maxconn 1000

            defaults
                mode tcp
                retries 2
                timeout queue 5s
                timeout connect 5s
                timeout client 30m
                timeout server 30m
                timeout check 5s

            listen primary
                bind 127.0.0.1:{port}
                option pgsql-check user postgres
                default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions
                server pg 127.0.0.1:{pgPort} maxconn 100 check

            """), ct);
        var check = await Command.RunAsync(Haproxy, ["-c", "-f", cfg], ct: ct);
        if (!check.Ok) return (null, $"haproxy -c rejected {cfg}: {check.Errors}{check.Output}");
        var target = new ProxyTarget("haproxy", port, ChildProcess.Start("haproxy", Haproxy, ["-f", cfg, "-db"], Path.Combine(dir, "haproxy.log")));
        return await target.ReadyAsync(ct) is { } why ? (null, why) : (target, "");
    }

    /// <summary>
    /// <c>appliance-balancer run</c> with a static backend and one primary listener, data path
    /// <paramref name="dataPath"/>. Null with the reason when the binary is missing, check-config
    /// rejects the configuration (a balancer without the proxy), or the listener never serves.
    /// </summary>
    public static async Task<(ProxyTarget? Target, string Why)> StartBalancerAsync(string dir, int pgPort, int port, int metricsPort, string dataPath, CancellationToken ct)
    {
        string binary;
        try { binary = BalancerProcess.Binary(); }
        catch (FileNotFoundException e) { return (null, e.Message); }
        Directory.CreateDirectory(dir);
        var toml = Path.Combine(dir, "balancer.toml");
        await File.WriteAllTextAsync(toml, string.Create(CultureInfo.InvariantCulture, $"""
            # written by appliance-bench proxy
            [balancer]
            listen = "127.0.0.1:{metricsPort}"

            [proxy]
            discovery = "static"
            data_path = "{dataPath}"

            [proxy.check]
            type = "pgsql-login"
            user = "postgres"

            [[proxy.listener]]
            name = "primary"
            bind = "127.0.0.1:{port}"
            role = "primary"

            [[proxy.backend]]
            name = "pg"
            address = "127.0.0.1:{pgPort}"

            """), ct);
        CommandResult check;
        try { check = await Command.RunAsync(binary, ["check-config", "-c", toml], ct: ct); }
        catch (System.ComponentModel.Win32Exception e) { return (null, $"cannot run {binary}: {e.Message}"); }
        if (!check.Ok) return (null, $"`appliance-balancer check-config` rejects the proxy configuration (exit {check.ExitCode}): {(check.Errors + check.Output).Trim()}");
        var name = $"ours-{dataPath}";
        var target = new ProxyTarget(name, port, ChildProcess.Start(name, binary, ["run", "-c", toml], Path.Combine(dir, "balancer.log")));
        if (await target.ReadyAsync(ct) is { } why) return (null, why);
        // A path the kernel refuses falls back to copy: measuring that under this name would mislead.
        var metrics = await BalancerMetricsAsync(metricsPort, ct);
        var active = $"appliance_proxy_listener_data_path{{listener=\"primary\",path=\"{dataPath}\"}} 1";
        if (metrics.Contains(active, StringComparison.Ordinal)) return (target, "");
        await target.DisposeAsync();
        return (null, $"the balancer did not take data path {dataPath} (no `{active}` in /metrics; its log:\n{target.LogTail()})");
    }
}
