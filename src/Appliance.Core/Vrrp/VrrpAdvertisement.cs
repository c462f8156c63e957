using System.Buffers.Binary;
using System.Text;
using Appliance.Net;

namespace Appliance.Vrrp;

/// <summary>The VRRP protocol version: 2 (RFC 3768, IPv4, seconds, optional text password) or 3 (RFC 5798, centiseconds, no authentication).</summary>
public enum VrrpVersion : byte
{
    V2 = 2,
    V3 = 3,
}

/// <summary>The v2 Auth Type field (RFC 3768 section 5.3.6).</summary>
public enum VrrpAuthType : byte
{
    /// <summary>0: no authentication.</summary>
    None = 0,
    /// <summary>1: the simple text password of RFC 2338, kept by RFC 3768 only as a reserved value; keepalived's <c>auth_type PASS</c>.</summary>
    SimpleText = 1,
    /// <summary>2: IP Authentication Header (RFC 2338); reserved in RFC 3768 and not supported here.</summary>
    IpAuthenticationHeader = 2,
}

/// <summary>
/// The eight bytes of v2 Authentication Data. For <see cref="VrrpAuthType.SimpleText"/> they hold the
/// password, zero-padded (keepalived's <c>auth_pass "spk1234"</c> is <c>spk1234\0</c>); otherwise zero.
/// Kept as raw bytes so that a parsed message writes back byte for byte.
/// </summary>
public readonly record struct VrrpAuthData(ulong Bytes)
{
    /// <summary>The longest password the field holds.</summary>
    public const int MaxPasswordLength = 8;

    /// <summary>The field for a password of at most 8 ASCII bytes, zero-padded.</summary>
    public static VrrpAuthData FromPassword(string password)
    {
        Span<byte> field = stackalloc byte[MaxPasswordLength];
        field.Clear();
        var count = Encoding.UTF8.GetByteCount(password);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxPasswordLength, nameof(password));
        Encoding.UTF8.GetBytes(password, field);
        return new(BinaryPrimitives.ReadUInt64BigEndian(field));
    }

    /// <summary>Reads the 8-byte field.</summary>
    public static VrrpAuthData Read(ReadOnlySpan<byte> field) => new(BinaryPrimitives.ReadUInt64BigEndian(field));

    /// <summary>Writes the 8-byte field.</summary>
    public void Write(Span<byte> field) => BinaryPrimitives.WriteUInt64BigEndian(field, Bytes);

    /// <summary>Never the password itself: these bytes reach logs.</summary>
    public override string ToString() => Bytes == 0 ? "(zero)" : "(set)";
}

/// <summary>
/// One VRRP advertisement (the only VRRP message type), as carried after the IPv4 header. Syntax
/// only: whether its VRID, priority or interval matter to us is for the state machine to judge.
/// </summary>
public sealed record VrrpAdvertisement
{
    /// <summary>Protocol version.</summary>
    public required VrrpVersion Version { get; init; }
    /// <summary>Virtual Rtr ID, 1-255.</summary>
    public required byte VirtualRouterId { get; init; }
    /// <summary>The sender's priority: 255 for the address owner, 0 when the master is stopping.</summary>
    public required byte Priority { get; init; }
    /// <summary>
    /// The advertisement interval in centiseconds: v3's 12-bit Max Adver Int as is (1-4095); v2's
    /// Adver Int (whole seconds, 1-255) times 100.
    /// </summary>
    public required int IntervalCentiseconds { get; init; }
    /// <summary>The virtual addresses (at least one).</summary>
    public required IReadOnlyList<Ipv4Address> Addresses { get; init; }
    /// <summary>v2 only: the Auth Type.</summary>
    public VrrpAuthType AuthType { get; init; }
    /// <summary>v2 only: the Authentication Data.</summary>
    public VrrpAuthData AuthData { get; init; }

    /// <summary>The interval as a duration.</summary>
    public TimeSpan Interval => TimeSpan.FromMilliseconds(IntervalCentiseconds * 10L);
}
