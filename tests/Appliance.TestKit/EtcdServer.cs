using System.Diagnostics;
using System.Net.Sockets;

namespace Appliance.TestKit;

/// <summary>
/// A real single-member etcd (Debian's <c>/usr/bin/etcd</c>, 3.4) on free 127.0.0.1 ports with its data
/// in a private temporary folder. <see cref="Stop"/> and <see cref="Start"/> cut it off and bring it back
/// on the same ports and data (cluster tests use this to isolate a leader). Dispose kills only the
/// process this object started, by its PID, and removes the data folder.
/// Use it as an xunit class or collection fixture; give each test its own scope.
/// </summary>
public sealed class EtcdServer : IDisposable
{
    public const string Binary = "/usr/bin/etcd";

    // TempDir cuts its name to 48 characters and throws when it is shorter: this prefix is long enough
    // for any PID and still leaves 20+ random hex digits.
    private readonly TempDir _dir = new("appl-etcdserver-data");
    private readonly int _clientPort;
    private readonly int _peerPort;
    private readonly object _gate = new();
    private Process? _process;

    /// <summary>Starts etcd and waits (up to 30 s) until it answers its health endpoint.</summary>
    public EtcdServer()
    {
        _clientPort = FreePorts.Next();
        _peerPort = FreePorts.Next();
        while (_peerPort == _clientPort) _peerPort = FreePorts.Next();
        Start();
    }

    /// <summary>The client URL, <c>http://127.0.0.1:port</c>.</summary>
    public string Endpoint => $"http://127.0.0.1:{_clientPort}";
    public int ClientPort => _clientPort;
    public string DataDir => _dir.Sub("data");
    public bool IsRunning { get { lock (_gate) return _process is { HasExited: false }; } }

    /// <summary>The tail of etcd's stderr, for failure messages.</summary>
    public string LogTail
    {
        get
        {
            try
            {
                var lines = File.ReadAllLines(_dir.Sub("etcd.log"));
                return string.Join('\n', lines.TakeLast(30));
            }
            catch (IOException) { return ""; }
        }
    }

    /// <summary>(Re)starts etcd on the same ports and data folder; waits until it is healthy.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_process is { HasExited: false }) return;
            _process?.Dispose();
            // etcd logs to stderr; the shell redirects it to a file (no pipe to drain) and then execs
            // etcd, so the PID we hold is etcd's own.
            var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add($"exec {Binary} \"$@\" 2>>'{_dir.Sub("etcd.log")}' >/dev/null");
            psi.ArgumentList.Add("etcd");
            foreach (var a in new[]
            {
                "--name", "test",
                "--data-dir", DataDir,
                "--listen-client-urls", Endpoint,
                "--advertise-client-urls", Endpoint,
                "--listen-peer-urls", $"http://127.0.0.1:{_peerPort}",
                "--initial-advertise-peer-urls", $"http://127.0.0.1:{_peerPort}",
                "--initial-cluster", $"test=http://127.0.0.1:{_peerPort}",
                "--initial-cluster-state", "new",
                "--initial-cluster-token", Path.GetFileName(_dir.Path),
                "--heartbeat-interval", "50",
                "--election-timeout", "500",
                "--snapshot-count", "100000",
            })
            {
                psi.ArgumentList.Add(a);
            }
            _process = Process.Start(psi) ?? throw new InvalidOperationException("etcd did not start");
        }
        WaitHealthy(TimeSpan.FromSeconds(30));
    }

    /// <summary>Kills etcd (SIGKILL, this process only) and waits for it to exit; the data folder stays.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (_process is null) return;
            try
            {
                if (!_process.HasExited) _process.Kill();
                _process.WaitForExit(10_000);
            }
            catch (InvalidOperationException) { }
            _process.Dispose();
            _process = null;
        }
    }

    private void WaitHealthy(TimeSpan deadline)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var sw = Stopwatch.StartNew();
        string last = "";
        while (sw.Elapsed < deadline)
        {
            lock (_gate)
            {
                if (_process is null || _process.HasExited)
                    throw new InvalidOperationException($"etcd exited during start-up:\n{LogTail}");
            }
            try
            {
                var body = http.GetStringAsync($"{Endpoint}/health").GetAwaiter().GetResult();
                if (body.Contains("\"health\":\"true\"", StringComparison.Ordinal)) return;
                last = body;
            }
            catch (HttpRequestException e) { last = e.Message; }
            catch (TaskCanceledException e) { last = e.Message; }
            catch (SocketException e) { last = e.Message; }
            // A poll interval, not a wait for an outcome: the loop ends on the condition above.
            Thread.Sleep(50);
        }
        throw new TimeoutException($"etcd not healthy within {deadline.TotalSeconds:0}s ({last}):\n{LogTail}");
    }

    public void Dispose()
    {
        Stop();
        _dir.Dispose();
    }
}
