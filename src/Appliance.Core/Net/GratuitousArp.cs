using System.Buffers.Binary;

namespace Appliance.Net;

/// <summary>
/// The gratuitous ARP frame keepalived sends for a virtual address on becoming master (captured in
/// <c>vectors/garp-takeover.pcap</c>): an ARP request (RFC 826, RFC 5227 section 3's "ARP
/// Announcement") whose sender and target protocol addresses are both the virtual address, target
/// hardware address ff:ff:ff:ff:ff:ff, sent to the Ethernet broadcast from our interface's MAC.
/// Hosts and switches that see it point the address at our MAC. Pure: the caller owns the buffer.
/// <code>
///  0: eth dst (6) = broadcast   6: eth src (6) = our MAC    12: ethertype 0x0806
/// 14: htype 1 (Ethernet)       16: ptype 0x0800 (IPv4)     18: hlen 6, plen 4
/// 20: oper 1 (request)         22: sha = our MAC           28: spa = VIP
/// 32: tha = ff:ff:ff:ff:ff:ff  38: tpa = VIP               42: end (no padding: the NIC pads to 60)
/// </code>
/// </summary>
public static class GratuitousArp
{
    /// <summary>Frame length with the Ethernet header, before the NIC's padding.</summary>
    public const int FrameLength = 42;
    /// <summary>The Ethernet type of ARP.</summary>
    public const ushort EtherTypeArp = 0x0806;

    /// <summary>Writes the frame announcing <paramref name="address"/> at <paramref name="mac"/>; returns <see cref="FrameLength"/>.</summary>
    public static int Write(MacAddress mac, Ipv4Address address, Span<byte> destination)
    {
        var f = destination[..FrameLength];
        MacAddress.Broadcast.Write(f);
        mac.Write(f[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(f[12..], EtherTypeArp);
        BinaryPrimitives.WriteUInt16BigEndian(f[14..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(f[16..], 0x0800);
        f[18] = 6;
        f[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(f[20..], 1);
        mac.Write(f[22..]);
        address.Write(f[28..]);
        // keepalived puts the broadcast address here, not zeros (RFC 5227 suggests zeros; both work).
        MacAddress.Broadcast.Write(f[32..]);
        address.Write(f[38..]);
        return FrameLength;
    }
}
