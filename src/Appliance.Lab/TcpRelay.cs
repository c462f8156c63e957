using System.Net;
using System.Net.Sockets;

namespace Appliance.Lab;

/// <summary>
/// A loopback TCP relay in front of a service, so one client's path to it can be cut and restored
/// (a partition on one machine, without namespaces), or so a program on the host can reach a service
/// inside a lab namespace (the upstream socket is then created in that namespace). Cutting closes
/// every relayed connection and refuses new ones; healing listens again on the same port.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    readonly IPEndPoint _target;
    readonly Func<Socket> _newUpstream;
    readonly object _lock = new();
    readonly List<Socket> _open = [];
    Socket? _listener;
    CancellationTokenSource _cts = new();

    public int Port { get; }
    public bool IsCut { get; private set; }

    /// <summary>A relay to <c>127.0.0.1:<paramref name="targetPort"/></c>.</summary>
    public TcpRelay(int targetPort)
        : this(new IPEndPoint(IPAddress.Loopback, targetPort), () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
    {
    }

    /// <summary>A relay to <paramref name="target"/>, connecting with sockets from <paramref name="newUpstream"/> (e.g. one made inside a namespace).</summary>
    public TcpRelay(IPEndPoint target, Func<Socket> newUpstream)
    {
        _target = target;
        _newUpstream = newUpstream;
        Port = Listen(0);
    }

    int Listen(int port)
    {
        var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        l.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        l.Bind(new IPEndPoint(IPAddress.Loopback, port));
        l.Listen(64);
        _listener = l;
        var ct = _cts.Token;
        _ = Task.Run(() => AcceptLoopAsync(l, ct), CancellationToken.None);
        return ((IPEndPoint)l.LocalEndPoint!).Port;
    }

    async Task AcceptLoopAsync(Socket listener, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptAsync(ct); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            _ = Task.Run(() => RelayAsync(client, ct), CancellationToken.None);
        }
    }

    async Task RelayAsync(Socket client, CancellationToken ct)
    {
        Socket upstream;
        try { upstream = _newUpstream(); }
        catch (InvalidOperationException)
        {
            client.Dispose();
            return;
        }
        lock (_lock) { _open.Add(client); _open.Add(upstream); }
        try
        {
            await upstream.ConnectAsync(_target, ct);
            // A side that ends cleanly has its FIN passed on (PumpAsync) while the other direction may
            // still carry data, as a close-delimited HTTP/1.0 response (Patroni's REST API): closing both
            // at the first end would reset the client before it read that response. A failure ends both.
            var up = PumpAsync(client, upstream, ct);
            var down = PumpAsync(upstream, client, ct);
            var first = await Task.WhenAny(up, down);
            await first;
            await (first == up ? down : up);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The relay was cut or a side went away: close both below.
        }
        finally
        {
            lock (_lock) { _open.Remove(client); _open.Remove(upstream); }
            client.Dispose();
            upstream.Dispose();
        }
    }

    static async Task PumpAsync(Socket from, Socket to, CancellationToken ct)
    {
        var buffer = new byte[16384];
        while (true)
        {
            var n = await from.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0)
            {
                to.Shutdown(SocketShutdown.Send);
                return;
            }
            await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, ct);
        }
    }

    /// <summary>Drops every relayed connection and refuses new ones.</summary>
    public void Cut()
    {
        if (IsCut) return;
        IsCut = true;
        _cts.Cancel();
        _listener?.Dispose();
        lock (_lock)
        {
            foreach (var s in _open) s.Dispose();
            _open.Clear();
        }
    }

    /// <summary>Accepts connections again, on the same port.</summary>
    public void Heal()
    {
        if (!IsCut) return;
        _cts.Dispose();
        _cts = new CancellationTokenSource();
        Listen(Port);
        IsCut = false;
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        _cts.Dispose();
        return ValueTask.CompletedTask;
    }
}
