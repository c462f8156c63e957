using System.Net.Sockets;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>The TCP connection the tcp and pgsql checks open: no Nagle (one small request), closed with a FIN.</summary>
static class CheckSocket
{
    public static async Task<Socket> ConnectAsync(string host, int port, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(host, port, ct).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A FIN, not a reset: the server sees a client that left, not an error.</summary>
    public static void Close(Socket socket)
    {
        try { socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        socket.Dispose();
    }
}
