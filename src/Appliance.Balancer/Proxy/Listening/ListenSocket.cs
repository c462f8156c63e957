using System.Net;
using System.Net.Sockets;
using static Tmds.Linux.LibC;

namespace Appliance.Balancer.Proxy.Listening;

/// <summary>
/// A listening socket for one accept loop. SO_REUSEPORT lets every loop have its own socket on the same
/// address, the kernel spreading new connections among them (no shared accept queue, no lock);
/// IP_FREEBIND lets it bind a VIP this node does not hold yet, so it accepts the moment VRRP adds the
/// address. The framework's Socket sets both through SetRawSocketOption; the option numbers come from
/// Tmds.LibC (&lt;asm-generic/socket.h&gt; SO_REUSEPORT, &lt;linux/in.h&gt; IP_FREEBIND, &lt;linux/in6.h&gt; IPV6_FREEBIND).
/// </summary>
public static class ListenSocket
{
    /// <summary>Pending connections per socket before the kernel drops SYNs (capped by net.core.somaxconn).</summary>
    public const int Backlog = 1024;

    public static Socket Create(IPEndPoint endPoint)
    {
        var s = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            Span<byte> one = stackalloc byte[4];
            BitConverter.TryWriteBytes(one, 1);
            s.SetRawSocketOption(SOL_SOCKET, SO_REUSEPORT, one);
            if (endPoint.AddressFamily == AddressFamily.InterNetwork) s.SetRawSocketOption(IPPROTO_IP, IP_FREEBIND, one);
            else s.SetRawSocketOption(IPPROTO_IPV6, IPV6_FREEBIND, one);
            s.Bind(endPoint);
            s.Listen(Backlog);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }
}
