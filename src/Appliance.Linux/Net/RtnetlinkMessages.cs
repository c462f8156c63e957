using System.Buffers.Binary;
using System.Text;
using Appliance.Net;
using Appliance.Vrrp;
using static Appliance.Linux.Interop.IfAddrH;
using static Appliance.Linux.Interop.NetlinkH;
using static Appliance.Linux.Interop.RtnetlinkH;

namespace Appliance.Linux.Net;

/// <summary>An IPv4 address on an interface, as an RTM_NEWADDR dump reports it.</summary>
public readonly record struct InterfaceAddress(Ipv4Address Address, byte PrefixLength, string Label, bool Secondary);

/// <summary>How one netlink request ended: 0 for success, or the errno the kernel returned.</summary>
public readonly record struct NetlinkOutcome(bool Finished, int Errno);

/// <summary>
/// The rtnetlink messages the speaker sends and reads (rtnetlink(7), netlink(7)), encoded apart
/// from the socket so that tests compare them with bytes derived from the headers. Netlink is in
/// host byte order (little-endian on x86-64 and arm64); addresses inside attributes are in network order.
/// <code>
/// nlmsghdr (16): len u32 | type u16 | flags u16 | seq u32 | pid u32 (0: to the kernel)
/// ifaddrmsg (8): family u8 (AF_INET 2) | prefixlen u8 | flags u8 | scope u8 | index u32
/// rtattr (4 + payload, padded to 4): len u16 (without padding) | type u16 | payload
/// </code>
/// </summary>
public static class RtnetlinkMessages
{
    const byte AF_INET = 2;
    const int IfAddrMsgLength = 8;

    /// <summary>Room for any request this class writes.</summary>
    public const int MaxRequestLength = 128;

    /// <summary>
    /// RTM_NEWADDR (add, <c>NLM_F_CREATE | NLM_F_EXCL</c>: EEXIST when it is already there) or
    /// RTM_DELADDR for <paramref name="address"/> on <paramref name="ifindex"/>, with IFA_LOCAL and
    /// IFA_ADDRESS both the address (a broadcast interface, as <c>ip addr add</c> sends them) and the
    /// label when given. Always asks for an ACK so that failures are reported. Returns the length.
    /// </summary>
    public static int WriteAddressRequest(Span<byte> buffer, bool add, uint seq, int ifindex, VirtualAddress address, string? label)
    {
        var at = NLMSG_HDRLEN;
        buffer[at] = AF_INET;
        buffer[at + 1] = address.PrefixLength;
        buffer[at + 2] = 0;
        buffer[at + 3] = RT_SCOPE_UNIVERSE;
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[(at + 4)..], (uint)ifindex);
        at += IfAddrMsgLength;
        Span<byte> ip = stackalloc byte[4];
        address.Address.Write(ip);
        at = WriteAttribute(buffer, at, IFA_LOCAL, ip);
        at = WriteAttribute(buffer, at, IFA_ADDRESS, ip);
        if (label is not null)
        {
            var bytes = Encoding.ASCII.GetBytes(label + "\0");
            at = WriteAttribute(buffer, at, IFA_LABEL, bytes);
        }
        var flags = (ushort)(NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
        WriteHeader(buffer, at, add ? RTM_NEWADDR : RTM_DELADDR, flags, seq);
        return at;
    }

    /// <summary>RTM_GETADDR with NLM_F_DUMP for every IPv4 address (filtered by interface on reading).</summary>
    public static int WriteAddressDump(Span<byte> buffer, uint seq)
    {
        var at = NLMSG_HDRLEN;
        buffer.Slice(at, IfAddrMsgLength).Clear();
        buffer[at] = AF_INET;
        at += IfAddrMsgLength;
        WriteHeader(buffer, at, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, seq);
        return at;
    }

    /// <summary>
    /// Reads one datagram of replies to request <paramref name="seq"/>: an NLMSG_ERROR (error 0 is the
    /// ACK) or NLMSG_DONE finishes it; RTM_NEWADDR messages of <paramref name="ifindex"/> are added to
    /// <paramref name="addresses"/>. Messages of other sequence numbers (stale replies) are skipped.
    /// </summary>
    public static NetlinkOutcome ReadReplies(ReadOnlySpan<byte> datagram, uint seq, int ifindex, List<InterfaceAddress>? addresses)
    {
        var at = 0;
        while (at + NLMSG_HDRLEN <= datagram.Length)
        {
            var len = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram[at..]);
            if (len < NLMSG_HDRLEN || at + len > datagram.Length) break;
            var type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[(at + 4)..]);
            var msgSeq = BinaryPrimitives.ReadUInt32LittleEndian(datagram[(at + 8)..]);
            var body = datagram.Slice(at + NLMSG_HDRLEN, len - NLMSG_HDRLEN);
            at += NLMSG_ALIGN(len);
            if (msgSeq != seq) continue;
            switch (type)
            {
                case NLMSG_ERROR when body.Length >= 4:
                    return new(true, -BinaryPrimitives.ReadInt32LittleEndian(body));
                case NLMSG_DONE:
                    return new(true, 0);
                case RTM_NEWADDR when addresses is not null && body.Length >= IfAddrMsgLength:
                    if (body[0] == AF_INET && BinaryPrimitives.ReadUInt32LittleEndian(body[4..]) == (uint)ifindex)
                        addresses.Add(ReadAddress(body));
                    break;
            }
        }
        return new(false, 0);
    }

    static InterfaceAddress ReadAddress(ReadOnlySpan<byte> body)
    {
        Ipv4Address? local = null, peer = null;
        var label = "";
        var at = IfAddrMsgLength;
        while (at + RTA_HDRLEN <= body.Length)
        {
            var len = BinaryPrimitives.ReadUInt16LittleEndian(body[at..]);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(body[(at + 2)..]);
            if (len < RTA_HDRLEN || at + len > body.Length) break;
            var payload = body.Slice(at + RTA_HDRLEN, len - RTA_HDRLEN);
            if (type == IFA_LOCAL && payload.Length == 4) local = Ipv4Address.Read(payload);
            else if (type == IFA_ADDRESS && payload.Length == 4) peer = Ipv4Address.Read(payload);
            else if (type == IFA_LABEL) label = Encoding.ASCII.GetString(payload.IndexOf((byte)0) is var nul and >= 0 ? payload[..nul] : payload);
            at += RTA_ALIGN(len);
        }
        // IFA_LOCAL is the address itself; IFA_ADDRESS alone only on interfaces without a local one.
        return new(local ?? peer ?? default, body[1], label, (body[2] & IFA_F_SECONDARY) != 0);
    }

    static int WriteAttribute(Span<byte> buffer, int at, ushort type, ReadOnlySpan<byte> payload)
    {
        var len = RTA_HDRLEN + payload.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[at..], (ushort)len);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[(at + 2)..], type);
        payload.CopyTo(buffer[(at + RTA_HDRLEN)..]);
        var aligned = RTA_ALIGN(len);
        buffer[(at + len)..(at + aligned)].Clear();
        return at + aligned;
    }

    static void WriteHeader(Span<byte> buffer, int length, ushort type, ushort flags, uint seq)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)length);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[8..], seq);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[12..], 0);
    }
}
