using Appliance.Linux.Interop;
using Appliance.Net;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Appliance.Linux.Net;

/// <summary>
/// An AF_PACKET socket (SOCK_RAW, ETH_P_ARP) on one interface that sends whole Ethernet frames:
/// the gratuitous ARPs of <see cref="GratuitousArp"/>. The kernel's own ARP cannot send them.
/// </summary>
public sealed unsafe class GarpSocket : IDisposable
{
    readonly int _fd;
    readonly int _ifindex;

    GarpSocket(int fd, int ifindex)
    {
        _fd = fd;
        _ifindex = ifindex;
    }

    /// <summary>Opens the socket for interface <paramref name="ifindex"/>. Protocol 0: it only sends, so receives nothing.</summary>
    public static GarpSocket Open(int ifindex)
    {
        var fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        if (fd < 0) throw new NetException("socket(AF_PACKET, SOCK_RAW)", errno);
        return new GarpSocket(fd, ifindex);
    }

    /// <summary>Sends one frame (Ethernet header included) out of the interface; false with the errno when refused.</summary>
    public bool Send(ReadOnlySpan<byte> frame, out int error)
    {
        var to = new sockaddr_ll
        {
            sll_family = (ushort)AF_PACKET,
            sll_protocol = (ushort)System.Net.IPAddress.HostToNetworkOrder((short)IfEtherH.ETH_P_ARP),
            sll_ifindex = _ifindex,
            sll_halen = IfEtherH.ETH_ALEN,
        };
        MacAddress.Broadcast.Write(new Span<byte>(to.sll_addr, IfEtherH.ETH_ALEN));
        fixed (byte* p = frame)
        {
            var sent = sendto(_fd, p, (size_t)frame.Length, 0, (sockaddr*)&to, (uint)sizeof(sockaddr_ll));
            error = sent < 0 ? errno : 0;
            return sent >= 0;
        }
    }

    public void Dispose() => _ = close(_fd);
}
