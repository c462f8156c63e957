using Appliance.Linux.Interop;
using Appliance.Vrrp;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Appliance.Linux.Net;

/// <summary>
/// A NETLINK_ROUTE socket for adding, removing and listing IPv4 addresses: what <c>ip addr</c>
/// does, without the <c>ip</c> command. Requests are synchronous (the kernel answers before
/// <c>send</c> returns to the next <c>recv</c>). One owner; needs CAP_NET_ADMIN to change addresses.
/// </summary>
public sealed unsafe class RtnetlinkSocket : IDisposable
{
    readonly int _fd;
    uint _seq;

    RtnetlinkSocket(int fd) => _fd = fd;

    /// <summary>Opens and binds the socket (the kernel picks our port id).</summary>
    public static RtnetlinkSocket Open()
    {
        var fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NetlinkH.NETLINK_ROUTE);
        if (fd < 0) throw new NetException("socket(AF_NETLINK, NETLINK_ROUTE)", errno);
        var local = new sockaddr_nl { nl_family = (ushort)AF_NETLINK };
        if (bind(fd, (sockaddr*)&local, (uint)sizeof(sockaddr_nl)) < 0)
        {
            var e = errno;
            _ = close(fd);
            throw new NetException("bind(netlink)", e);
        }
        return new RtnetlinkSocket(fd);
    }

    /// <summary>Adds the address; true when added, false when it was already there (EEXIST).</summary>
    public bool AddAddress(int ifindex, VirtualAddress address, string? label)
    {
        var e = Request(add: true, ifindex, address, label);
        if (e == EEXIST) return false;
        if (e != 0) throw new NetException($"RTM_NEWADDR {address} on ifindex {ifindex}", e);
        return true;
    }

    /// <summary>Removes the address; true when removed, false when it was not there (EADDRNOTAVAIL).</summary>
    public bool DeleteAddress(int ifindex, VirtualAddress address)
    {
        var e = Request(add: false, ifindex, address, null);
        if (e == EADDRNOTAVAIL) return false;
        if (e != 0) throw new NetException($"RTM_DELADDR {address} on ifindex {ifindex}", e);
        return true;
    }

    /// <summary>The IPv4 addresses on <paramref name="ifindex"/>, primary ones first as the kernel lists them.</summary>
    public List<InterfaceAddress> GetAddresses(int ifindex)
    {
        Span<byte> request = stackalloc byte[RtnetlinkMessages.MaxRequestLength];
        var seq = ++_seq;
        Send(request[..RtnetlinkMessages.WriteAddressDump(request, seq)], "RTM_GETADDR");
        var addresses = new List<InterfaceAddress>();
        var buffer = new byte[32 * 1024];
        while (true)
        {
            var n = Receive(buffer, "RTM_GETADDR");
            var outcome = RtnetlinkMessages.ReadReplies(buffer.AsSpan(0, n), seq, ifindex, addresses);
            if (outcome.Finished)
            {
                if (outcome.Errno != 0) throw new NetException("RTM_GETADDR", outcome.Errno);
                return addresses;
            }
        }
    }

    int Request(bool add, int ifindex, VirtualAddress address, string? label)
    {
        Span<byte> request = stackalloc byte[RtnetlinkMessages.MaxRequestLength];
        var seq = ++_seq;
        var what = add ? "RTM_NEWADDR" : "RTM_DELADDR";
        Send(request[..RtnetlinkMessages.WriteAddressRequest(request, add, seq, ifindex, address, label)], what);
        Span<byte> buffer = stackalloc byte[4096];
        while (true)
        {
            var n = Receive(buffer, what);
            var outcome = RtnetlinkMessages.ReadReplies(buffer[..n], seq, ifindex, null);
            if (outcome.Finished) return outcome.Errno;
        }
    }

    void Send(ReadOnlySpan<byte> message, string what)
    {
        var kernel = new sockaddr_nl { nl_family = (ushort)AF_NETLINK };
        fixed (byte* p = message)
        {
            while (true)
            {
                var sent = sendto(_fd, p, (size_t)message.Length, 0, (sockaddr*)&kernel, (uint)sizeof(sockaddr_nl));
                if (sent >= 0) return;
                var e = errno;
                if (e != EINTR) throw new NetException($"send {what}", e);
            }
        }
    }

    int Receive(Span<byte> buffer, string what)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = recv(_fd, p, (size_t)buffer.Length, 0);
                if (n >= 0) return (int)n;
                var e = errno;
                if (e != EINTR) throw new NetException($"recv {what}", e);
            }
        }
    }

    public void Dispose() => _ = close(_fd);
}
