using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Lab.Netns;

/// <summary>
/// A TCP listener in a node's namespace that answers every connection with the node's name and a
/// newline, then closes. It listens on 0.0.0.0, so it answers on a VIP as soon as the node holds
/// it (a listener bound to the VIP could not start before the VIP exists): a client connecting
/// to the VIP learns which node took it.
/// </summary>
public sealed class NodeNameServer : IAsyncDisposable
{
    readonly Socket _listener;
    readonly CancellationTokenSource _stop = new();
    readonly Task _accepting;
    readonly byte[] _answer;

    /// <summary>The port it listens on in its namespace.</summary>
    public int Port { get; }

    NodeNameServer(Socket listener, string name)
    {
        _listener = listener;
        _answer = Encoding.ASCII.GetBytes(name + "\n");
        Port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        _accepting = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Starts answering <paramref name="name"/> on 0.0.0.0:<paramref name="port"/> in <paramref name="netns"/>.</summary>
    public static NodeNameServer Start(string netns, string name, int port)
    {
        var s = NetnsSocket.Create(netns);
        try
        {
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.Bind(new IPEndPoint(IPAddress.Any, port));
            s.Listen(128);
            return new NodeNameServer(s, name);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket c;
            try { c = await _listener.AcceptAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            try { await c.SendAsync(_answer, SocketFlags.None); }
            catch (SocketException) { }
            finally { c.Dispose(); }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting;
        _stop.Dispose();
    }
}
