using System.Net.Http;

namespace Appliance.Lab;

/// <summary>A real single-member etcd (Debian's etcd-server) on loopback ports, with its data in the given folder.</summary>
public sealed class EtcdProcess : IAsyncDisposable
{
    readonly string _dataDir;
    readonly string _name;
    ChildProcess? _process;
    public int ClientPort { get; }
    public int PeerPort { get; }
    public string Endpoint => $"http://127.0.0.1:{ClientPort}";
    public int? Pid => _process is { HasExited: false } p ? p.Pid : null;
    public bool IsRunning => Pid is not null;
    public string LogPath => Path.Combine(_dataDir, "etcd.log");
    public string LogTail => _process?.LogTail(30) ?? "";

    public EtcdProcess(string dataDir, int clientPort, int peerPort, string name = "etcd")
    {
        _dataDir = dataDir;
        ClientPort = clientPort;
        PeerPort = peerPort;
        _name = name;
    }

    public static string Binary => File.Exists("/usr/bin/etcd") ? "/usr/bin/etcd" : "etcd";

    /// <summary>Starts etcd (again, on the same ports and data) and waits until it answers <c>/health</c>. No-op while it runs.</summary>
    public async Task StartAsync(TimeSpan deadline, CancellationToken ct = default)
    {
        if (IsRunning) return;
        Directory.CreateDirectory(_dataDir);
        var peer = $"http://127.0.0.1:{PeerPort}";
        _process = ChildProcess.Start(_name, Binary,
        [
            "--name", _name, "--data-dir", Path.Combine(_dataDir, "data"),
            "--listen-client-urls", Endpoint, "--advertise-client-urls", Endpoint,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"{_name}={peer}", "--initial-cluster-state", "new",
            "--initial-cluster-token", $"{_name}-{ClientPort}",
            // One member on loopback: elect at once after a restart instead of after the default 1 s.
            "--heartbeat-interval", "50", "--election-timeout", "500",
        ], LogPath, new Dictionary<string, string> { ["ETCD_UNSUPPORTED_ARCH"] = "" });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        var until = DateTimeOffset.UtcNow + deadline;
        while (DateTimeOffset.UtcNow < until)
        {
            if (_process.HasExited) throw new InvalidOperationException($"etcd exited at start:\n{_process.LogTail()}");
            try
            {
                var body = await http.GetStringAsync($"{Endpoint}/health", ct);
                if (body.Contains("\"true\"", StringComparison.Ordinal)) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            await Task.Delay(100, ct);
        }
        throw new TimeoutException($"etcd did not become healthy within {deadline.TotalSeconds:0}s:\n{_process.LogTail()}");
    }

    /// <summary>Stops etcd (the data stays, so <see cref="StartAsync"/> brings the same cluster back).</summary>
    public async Task StopAsync()
    {
        if (_process is not null) await _process.StopAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Kills etcd at once (SIGKILL, as a crash); the data stays.</summary>
    public async Task KillAsync()
    {
        if (_process is null) return;
        _process.Signal(Tmds.Linux.LibC.SIGKILL);
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null) await _process.DisposeAsync();
    }
}
