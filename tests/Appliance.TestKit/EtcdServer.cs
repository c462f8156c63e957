using Appliance.Lab;

namespace Appliance.TestKit;

/// <summary>
/// A real single-member etcd (Debian's etcd-server, 3.4) on free 127.0.0.1 ports with its data in a
/// private temporary folder: the lab's <see cref="EtcdProcess"/> with a synchronous face for xunit
/// fixtures. <see cref="Stop"/> kills it and <see cref="Start"/> brings it back on the same ports and
/// data. Dispose kills only the process it started, by PID, and removes the folder. Give each test its own scope.
/// </summary>
public sealed class EtcdServer : IDisposable
{
    readonly TempDir _dir = new("appl-etcd");
    readonly EtcdProcess _etcd;

    /// <summary>Starts etcd and waits (up to 30 s) until it answers its health endpoint.</summary>
    public EtcdServer()
    {
        var client = FreePorts.Next();
        var peer = FreePorts.Next();
        while (peer == client) peer = FreePorts.Next();
        _etcd = new EtcdProcess(_dir.Path, client, peer, "test");
        Start();
    }

    /// <summary>The client URL, <c>http://127.0.0.1:port</c>.</summary>
    public string Endpoint => _etcd.Endpoint;
    public int ClientPort => _etcd.ClientPort;
    public bool IsRunning => _etcd.IsRunning;
    public string LogTail => _etcd.LogTail;

    /// <summary>(Re)starts etcd on the same ports and data folder; waits until it is healthy.</summary>
    public void Start() => _etcd.StartAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();

    /// <summary>Kills etcd (SIGKILL, this process only) and waits for it to exit; the data folder stays.</summary>
    public void Stop() => _etcd.KillAsync().GetAwaiter().GetResult();

    public void Dispose()
    {
        _etcd.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _dir.Dispose();
    }
}
