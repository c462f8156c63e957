using Appliance.Net;

namespace Appliance.Vrrp;

/// <summary>
/// A whole IPv4 datagram carrying VRRP, as a raw socket (AF_INET, SOCK_RAW, 112) receives it with
/// its IP header: the header is read and checked, then the message.
/// </summary>
public static class VrrpPacket
{
    /// <summary>
    /// Reads an IPv4 datagram holding a VRRP advertisement. Besides the syntax of both headers it
    /// checks what RFC 5798 7.1 asks of every receiver before anything else:
    /// "MUST verify that the IP TTL is 255" (and that the protocol is 112).
    /// </summary>
    public static VrrpParseResult Parse(ReadOnlySpan<byte> datagram)
    {
        var ipError = Ipv4Header.TryParse(datagram, out var header, out var payload, out var message);
        if (ipError != Ipv4Error.None)
            return VrrpParseResult.Fail(ipError == Ipv4Error.Fragment ? VrrpError.IpFragment : VrrpError.BadIpHeader, message);
        if (header.Protocol != VrrpCodec.IpProtocol)
            return VrrpParseResult.Fail(VrrpError.NotVrrp, $"IP protocol {header.Protocol}, expected {VrrpCodec.IpProtocol}");
        if (header.TimeToLive != VrrpCodec.RequiredTtl)
            return VrrpParseResult.Fail(VrrpError.BadTtl, $"IP TTL {header.TimeToLive}, expected {VrrpCodec.RequiredTtl}");

        var result = VrrpCodec.Parse(datagram[payload], header.Source, header.Destination);
        return result with { Header = header };
    }

    /// <summary>The length of the datagram <see cref="Write"/> produces.</summary>
    public static int GetLength(VrrpAdvertisement advertisement) => Ipv4Header.MinLength + VrrpCodec.GetLength(advertisement);

    /// <summary>
    /// Writes an IPv4 header (no options; its protocol should be 112 and its TTL 255) followed by the
    /// advertisement, and returns the length. For a socket with IP_HDRINCL, and for tests that compare
    /// with captured frames.
    /// </summary>
    public static int Write(Ipv4Header header, VrrpAdvertisement advertisement, Span<byte> destination)
    {
        var written = VrrpCodec.Write(advertisement, header.Source, header.Destination, destination[Ipv4Header.MinLength..]);
        header.Write(written, destination);
        return Ipv4Header.MinLength + written;
    }
}
