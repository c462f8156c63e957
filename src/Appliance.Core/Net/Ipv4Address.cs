using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Appliance.Net;

/// <summary>
/// An IPv4 address as the unsigned 32-bit number its four bytes spell in network order, so that
/// comparing two of them is the "unsigned integer comparison ... in network byte order" that the
/// VRRP election tie-break asks for (RFC 5798 section 6.4.3).
/// </summary>
public readonly record struct Ipv4Address(uint Value) : IComparable<Ipv4Address>
{
    /// <summary>The address from its four bytes in network order.</summary>
    public static Ipv4Address Read(ReadOnlySpan<byte> bytes) => new(BinaryPrimitives.ReadUInt32BigEndian(bytes));

    /// <summary>Writes the four bytes in network order.</summary>
    public void Write(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Value);

    /// <summary>Parses dotted-quad text ("10.0.0.1"); false for anything else (names, IPv6, "10.1").</summary>
    public static bool TryParse(string text, out Ipv4Address address)
    {
        address = default;
        // IPAddress.TryParse accepts "10.1" and "1"; an operator who writes that meant something else.
        if (text.Count(c => c == '.') != 3 || !IPAddress.TryParse(text, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork)
            return false;
        Span<byte> bytes = stackalloc byte[4];
        ip.TryWriteBytes(bytes, out _);
        address = Read(bytes);
        return true;
    }

    /// <summary>Parses dotted-quad text or throws <see cref="FormatException"/>.</summary>
    public static Ipv4Address Parse(string text) =>
        TryParse(text, out var address) ? address : throw new FormatException($"not an IPv4 address: '{text}'");

    /// <summary>True for 224.0.0.0/4.</summary>
    public bool IsMulticast => Value >> 28 == 0xE;

    public int CompareTo(Ipv4Address other) => Value.CompareTo(other.Value);

    public static bool operator <(Ipv4Address left, Ipv4Address right) => left.Value < right.Value;
    public static bool operator >(Ipv4Address left, Ipv4Address right) => left.Value > right.Value;
    public static bool operator <=(Ipv4Address left, Ipv4Address right) => left.Value <= right.Value;
    public static bool operator >=(Ipv4Address left, Ipv4Address right) => left.Value >= right.Value;

    /// <summary>Dotted quad.</summary>
    public override string ToString() => $"{Value >> 24}.{(Value >> 16) & 0xFF}.{(Value >> 8) & 0xFF}.{Value & 0xFF}";
}
