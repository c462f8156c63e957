using System.Text;
using Appliance.Linux.Interop;
using Appliance.Net;
using Appliance.Vrrp;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Appliance.Linux.Net;

/// <summary>
/// A raw IPv4 socket for protocol 112 on one interface: receives whole datagrams with their IPv4
/// header (the TTL check needs it) and sends datagrams whose header we write ourselves
/// (IP_HDRINCL), as keepalived does: TOS 0xc0, DF clear, TTL 255, the configured source address.
/// Not binding an address matters: a raw socket bound to a unicast address only receives datagrams
/// sent to it, never to 224.0.0.18.
/// </summary>
public sealed unsafe class VrrpSocket : IDisposable
{
    /// <summary>The descriptor, for poll(2).</summary>
    public int Fd { get; }

    VrrpSocket(int fd) => Fd = fd;

    /// <summary>
    /// Opens the socket on <paramref name="ifname"/> (index <paramref name="ifindex"/>): SO_BINDTODEVICE
    /// so only that link's adverts arrive and ours leave by it; with <paramref name="multicast"/>, joins
    /// 224.0.0.18 there (a raw socket sees no group traffic before IP_ADD_MEMBERSHIP), sends to it from
    /// that interface with TTL 255 and without looping our own adverts back.
    /// </summary>
    public static VrrpSocket Open(string ifname, int ifindex, bool multicast)
    {
        var fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NetinetInH.IPPROTO_VRRP);
        if (fd < 0) throw new NetException("socket(AF_INET, SOCK_RAW, 112)", errno);
        try
        {
            var name = Encoding.ASCII.GetBytes(ifname + "\0");
            fixed (byte* p = name)
                Check(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, p, (uint)name.Length), $"SO_BINDTODEVICE {ifname}");
            int one = 1;
            Check(setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(int)), "IP_HDRINCL");
            if (multicast)
            {
                var mreq = new ip_mreqn { imr_ifindex = ifindex };
                VrrpCodec.MulticastGroup.Write(new Span<byte>(&mreq.imr_multiaddr, 4));
                Check(setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, (uint)sizeof(ip_mreqn)), "IP_ADD_MEMBERSHIP 224.0.0.18");
                var ifreq = new ip_mreqn { imr_ifindex = ifindex };
                Check(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifreq, (uint)sizeof(ip_mreqn)), "IP_MULTICAST_IF");
                int ttl = VrrpCodec.RequiredTtl;
                Check(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(int)), "IP_MULTICAST_TTL");
                int loop = 0;
                Check(setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(int)), "IP_MULTICAST_LOOP");
            }
            return new VrrpSocket(fd);
        }
        catch
        {
            _ = close(fd);
            throw;
        }
    }

    /// <summary>Sends one datagram (IPv4 header included) to <paramref name="destination"/>; false when the kernel refused it for now (no buffer space, link down).</summary>
    public bool Send(ReadOnlySpan<byte> datagram, Ipv4Address destination, out int error)
    {
        var to = new sockaddr_in { sin_family = (sa_family_t)AF_INET };
        destination.Write(new Span<byte>(&to.sin_addr, 4));
        fixed (byte* p = datagram)
        {
            while (true)
            {
                var sent = sendto(Fd, p, (size_t)datagram.Length, 0, (sockaddr*)&to, (uint)sizeof(sockaddr_in));
                if (sent >= 0) { error = 0; return true; }
                error = errno;
                if (error != EINTR) return false;
            }
        }
    }

    /// <summary>Receives one datagram without blocking; 0 when none is waiting.</summary>
    public int Receive(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = recv(Fd, p, (size_t)buffer.Length, 0);
                if (n >= 0) return (int)n;
                var e = errno;
                if (e == EAGAIN) return 0;
                if (e != EINTR) throw new NetException("recv(VRRP)", e);
            }
        }
    }

    public void Dispose() => _ = close(Fd);

    static void Check(int result, string what)
    {
        if (result < 0) throw new NetException($"setsockopt {what}", errno);
    }
}
