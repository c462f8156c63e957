using System.Buffers.Binary;

namespace Appliance.Net;

/// <summary>
/// The fields of an IPv4 header (RFC 791) that a raw-socket protocol reads and writes. Written
/// headers have no options (20 bytes); the total length and header checksum are computed.
/// </summary>
public sealed record Ipv4Header
{
    /// <summary>The length of a header without options.</summary>
    public const int MinLength = 20;

    /// <summary>Type of service byte (keepalived sends 0xc0, network control; a kernel-built header has 0).</summary>
    public byte TypeOfService { get; init; }
    /// <summary>Identification (fragment reassembly); the kernel fills it when 0 is written on a raw socket without IP_HDRINCL.</summary>
    public ushort Identification { get; init; }
    /// <summary>The DF flag.</summary>
    public bool DontFragment { get; init; }
    /// <summary>Time to live. VRRP sends and requires 255, which proves the sender is on the same link.</summary>
    public byte TimeToLive { get; init; }
    /// <summary>The payload protocol (112 for VRRP).</summary>
    public byte Protocol { get; init; }
    /// <summary>Source address.</summary>
    public Ipv4Address Source { get; init; }
    /// <summary>Destination address.</summary>
    public Ipv4Address Destination { get; init; }

    /// <summary>
    /// Reads the header at the start of <paramref name="datagram"/> and finds its payload (the bytes
    /// the total length covers after the header, options skipped). Checks the version, header length,
    /// total length, header checksum, and that the datagram is not a fragment.
    /// </summary>
    public static Ipv4Error TryParse(ReadOnlySpan<byte> datagram, out Ipv4Header header, out Range payload, out string message)
    {
        header = Empty;
        payload = default;
        if (datagram.Length < MinLength)
            return Fail(Ipv4Error.TooShort, $"{datagram.Length} bytes, shorter than the {MinLength}-byte IPv4 header", out message);
        if (datagram[0] >> 4 != 4)
            return Fail(Ipv4Error.NotIpv4, $"IP version {datagram[0] >> 4}, expected 4", out message);
        var headerLength = (datagram[0] & 0x0F) * 4;
        if (headerLength < MinLength || headerLength > datagram.Length)
            return Fail(Ipv4Error.BadHeaderLength, $"header length {headerLength} bytes, expected 20 to {Math.Min(60, datagram.Length)}", out message);
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        if (totalLength < headerLength || totalLength > datagram.Length)
            return Fail(Ipv4Error.BadTotalLength, $"total length {totalLength}, expected {headerLength} to the {datagram.Length} bytes received", out message);
        if (InternetChecksum.Compute(datagram[..headerLength]) != 0)
            return Fail(Ipv4Error.BadHeaderChecksum, "IPv4 header checksum does not match", out message);
        var flagsAndOffset = BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]);
        if ((flagsAndOffset & 0x3FFF) != 0)
            return Fail(Ipv4Error.Fragment, "a fragment (MF set or a fragment offset): VRRP messages are never fragmented", out message);

        header = new Ipv4Header
        {
            TypeOfService = datagram[1],
            Identification = BinaryPrimitives.ReadUInt16BigEndian(datagram[4..]),
            DontFragment = (flagsAndOffset & 0x4000) != 0,
            TimeToLive = datagram[8],
            Protocol = datagram[9],
            Source = Ipv4Address.Read(datagram[12..]),
            Destination = Ipv4Address.Read(datagram[16..]),
        };
        payload = headerLength..totalLength;
        message = "";
        return Ipv4Error.None;
    }

    /// <summary>Writes this header without options for a payload of <paramref name="payloadLength"/> bytes; returns <see cref="MinLength"/>.</summary>
    public int Write(int payloadLength, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadLength, ushort.MaxValue - MinLength);
        var h = destination[..MinLength];
        h[0] = 0x45;
        h[1] = TypeOfService;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], (ushort)(MinLength + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], Identification);
        BinaryPrimitives.WriteUInt16BigEndian(h[6..], (ushort)(DontFragment ? 0x4000 : 0));
        h[8] = TimeToLive;
        h[9] = Protocol;
        h[10] = h[11] = 0;
        Source.Write(h[12..]);
        Destination.Write(h[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(h[10..], InternetChecksum.Compute(h));
        return MinLength;
    }

    private static readonly Ipv4Header Empty = new();

    private static Ipv4Error Fail(Ipv4Error error, string text, out string message)
    {
        message = text;
        return error;
    }
}

/// <summary>Why an IPv4 datagram could not be read.</summary>
public enum Ipv4Error
{
    /// <summary>Read.</summary>
    None,
    /// <summary>Shorter than a header.</summary>
    TooShort,
    /// <summary>The version nibble is not 4.</summary>
    NotIpv4,
    /// <summary>IHL below 5 words or past the end.</summary>
    BadHeaderLength,
    /// <summary>Total length shorter than the header or longer than what was received.</summary>
    BadTotalLength,
    /// <summary>The header checksum does not match.</summary>
    BadHeaderChecksum,
    /// <summary>More-fragments set or a non-zero fragment offset.</summary>
    Fragment,
}
