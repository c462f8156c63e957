using System.Buffers.Binary;
using Appliance.Net;

namespace Appliance.Vrrp;

/// <summary>
/// Reads and writes the VRRP message (what follows the IPv4 header), versions 2 and 3 over IPv4.
/// <code>
///  v2 (RFC 3768 5.1)                       v3 (RFC 5798 5.1)
///  0: version(4) type(4)                   0: version(4) type(4)
///  1: Virtual Rtr ID                       1: Virtual Rtr ID
///  2: Priority                             2: Priority
///  3: Count IP Addrs                       3: Count IPvX Addr
///  4: Auth Type                            4: rsvd(4) Max Adver Int(12), centiseconds
///  5: Adver Int (seconds)
///  6: Checksum                             6: Checksum
///  8: IP Address(es), 4 bytes each         8: IPv4 Address(es), 4 bytes each
///  then Authentication Data (8 bytes)
/// </code>
/// The v2 checksum covers the VRRP message only; the v3 checksum also covers the IPv4
/// pseudo-header (source, destination, zero, protocol 112, VRRP length), RFC 5798 5.2.8.
/// Pure and span-based: no sockets, no static buffers.
/// </summary>
public static class VrrpCodec
{
    /// <summary>IP protocol number of VRRP.</summary>
    public const byte IpProtocol = 112;
    /// <summary>The VRRP multicast group for IPv4, 224.0.0.18.</summary>
    public static readonly Ipv4Address MulticastGroup = new(0xE0000012);
    /// <summary>The TTL every advertisement is sent with and must arrive with.</summary>
    public const byte RequiredTtl = 255;

    private const int FixedLength = 8;
    private const int AuthDataLength = 8;
    private const byte AdvertisementType = 1;

    /// <summary>
    /// Reads the VRRP message <paramref name="message"/> (exactly the bytes the IPv4 total length
    /// covers after the header) that came from <paramref name="source"/> to <paramref name="destination"/>
    /// (used by the v3 checksum). Checks syntax only: version, type, length against the address count,
    /// v2 auth type, a non-zero interval, the checksum.
    /// </summary>
    public static VrrpParseResult Parse(ReadOnlySpan<byte> message, Ipv4Address source, Ipv4Address destination)
    {
        // RFC 5798 7.1: "MUST verify that the received packet contains the complete VRRP packet
        // (including fixed fields, and IPvX address(es))" (RFC 3768 adds "and Authentication Data").
        if (message.Length < FixedLength)
            return VrrpParseResult.Fail(VrrpError.TooShort, $"{message.Length} bytes, shorter than the {FixedLength}-byte VRRP header");

        var version = message[0] >> 4;
        if (version is not (2 or 3))
            return VrrpParseResult.Fail(VrrpError.BadVersion, $"VRRP version {version}, expected 2 or 3");
        var type = message[0] & 0x0F;
        if (type != AdvertisementType)
            return VrrpParseResult.Fail(VrrpError.BadType, $"VRRP type {type}, expected 1 (ADVERTISEMENT)");

        int count = message[3];
        if (count == 0)
            return VrrpParseResult.Fail(VrrpError.NoAddresses, "Count IP Addrs is 0, expected at least 1");
        var addressesEnd = FixedLength + 4 * count;
        var expected = version == 2 ? addressesEnd + AuthDataLength : addressesEnd;
        if (version == 2 && message.Length == addressesEnd)
            return VrrpParseResult.Fail(VrrpError.BadAuthLength, $"{message.Length} bytes hold {count} address(es) but not the 8 bytes of Authentication Data");
        if (message.Length != expected)
            return VrrpParseResult.Fail(VrrpError.AddressCountMismatch,
                $"{message.Length} bytes, expected {expected} for {count} address(es) in a v{version} message");

        VrrpAuthType authType = VrrpAuthType.None;
        int intervalCs;
        if (version == 2)
        {
            authType = (VrrpAuthType)message[4];
            // RFC 3768 defines 0 and reserves 1 and 2; keepalived's PASS is RFC 2338's type 1.
            if (authType is not (VrrpAuthType.None or VrrpAuthType.SimpleText))
                return VrrpParseResult.Fail(VrrpError.BadAuthType, $"Auth Type {message[4]}, expected 0 (none) or 1 (simple text password)");
            intervalCs = message[5] * 100;
        }
        else
        {
            // "rsvd: MUST be set to zero on transmission and ignored on reception" (RFC 5798 5.2.5).
            intervalCs = BinaryPrimitives.ReadUInt16BigEndian(message[4..]) & 0x0FFF;
        }
        if (intervalCs == 0)
            return VrrpParseResult.Fail(VrrpError.BadInterval, "advertisement interval 0, expected at least 1");

        // RFC 5798 7.1: "MUST verify the VRRP checksum".
        var sum = version == 3 ? PseudoHeaderSum(source, destination, message.Length) : 0;
        if (InternetChecksum.Finish(InternetChecksum.Add(sum, message)) != 0)
            return VrrpParseResult.Fail(VrrpError.BadChecksum,
                version == 3 ? "VRRP checksum (with the IPv4 pseudo-header) does not match" : "VRRP checksum does not match");

        var addresses = new Ipv4Address[count];
        for (var i = 0; i < count; i++)
            addresses[i] = Ipv4Address.Read(message[(FixedLength + 4 * i)..]);

        var advertisement = new VrrpAdvertisement
        {
            Version = (VrrpVersion)version,
            VirtualRouterId = message[1],
            Priority = message[2],
            IntervalCentiseconds = intervalCs,
            Addresses = addresses,
            AuthType = authType,
            AuthData = version == 2 ? VrrpAuthData.Read(message[addressesEnd..]) : default,
        };
        return new VrrpParseResult(advertisement, null, VrrpError.None, "");
    }

    /// <summary>The length of <paramref name="advertisement"/> on the wire.</summary>
    public static int GetLength(VrrpAdvertisement advertisement) =>
        FixedLength + 4 * advertisement.Addresses.Count + (advertisement.Version == VrrpVersion.V2 ? AuthDataLength : 0);

    /// <summary>
    /// Writes <paramref name="advertisement"/> with its checksum into <paramref name="destination"/> and
    /// returns the length written. Values the wire cannot carry (no or more than 255 addresses, a v2
    /// interval that is not whole seconds from 1 to 255, a v3 interval outside 1-4095 cs) throw
    /// <see cref="ArgumentException"/>: the configuration validator refuses them long before.
    /// </summary>
    public static int Write(VrrpAdvertisement advertisement, Ipv4Address source, Ipv4Address destination, Span<byte> destinationBuffer)
    {
        var count = advertisement.Addresses.Count;
        if (count is < 1 or > 255)
            throw new ArgumentException($"an advertisement carries 1 to 255 addresses, not {count}", nameof(advertisement));
        var length = GetLength(advertisement);
        var m = destinationBuffer[..length];
        m[0] = (byte)(((int)advertisement.Version << 4) | AdvertisementType);
        m[1] = advertisement.VirtualRouterId;
        m[2] = advertisement.Priority;
        m[3] = (byte)count;
        var cs = advertisement.IntervalCentiseconds;
        if (advertisement.Version == VrrpVersion.V2)
        {
            if (cs % 100 != 0 || cs / 100 is < 1 or > 255)
                throw new ArgumentException($"a v2 interval is 1 to 255 whole seconds, not {cs} cs", nameof(advertisement));
            m[4] = (byte)advertisement.AuthType;
            m[5] = (byte)(cs / 100);
        }
        else
        {
            if (cs is < 1 or > 0x0FFF)
                throw new ArgumentException($"a v3 interval is 1 to 4095 cs, not {cs}", nameof(advertisement));
            BinaryPrimitives.WriteUInt16BigEndian(m[4..], (ushort)cs);
        }
        m[6] = m[7] = 0;
        for (var i = 0; i < count; i++)
            advertisement.Addresses[i].Write(m[(FixedLength + 4 * i)..]);
        if (advertisement.Version == VrrpVersion.V2)
            advertisement.AuthData.Write(m[(FixedLength + 4 * count)..]);

        var sum = advertisement.Version == VrrpVersion.V3 ? PseudoHeaderSum(source, destination, length) : 0;
        BinaryPrimitives.WriteUInt16BigEndian(m[6..], InternetChecksum.Finish(InternetChecksum.Add(sum, m)));
        return length;
    }

    private static uint PseudoHeaderSum(Ipv4Address source, Ipv4Address destination, int length)
    {
        Span<byte> pseudo = stackalloc byte[12];
        source.Write(pseudo);
        destination.Write(pseudo[4..]);
        pseudo[8] = 0;
        pseudo[9] = IpProtocol;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo[10..], (ushort)length);
        return InternetChecksum.Add(0, pseudo);
    }
}
