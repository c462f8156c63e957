namespace Appliance.Vrrp;

/// <summary>
/// Why a received datagram is not a usable VRRP advertisement. Each is a counted drop, never an
/// exception. Names are frozen: they become metric label values (<c>reason</c>).
/// </summary>
public enum VrrpError
{
    /// <summary>Parsed.</summary>
    None,

    // The IPv4 header around the message.
    /// <summary>Shorter than an IPv4 header, or the header is malformed (version, length, checksum).</summary>
    BadIpHeader,
    /// <summary>An IPv4 fragment.</summary>
    IpFragment,
    /// <summary>The IP protocol is not 112.</summary>
    NotVrrp,
    /// <summary>The IP TTL is not 255: the sender is not on this link, or a router forwarded it.</summary>
    BadTtl,

    // The VRRP message.
    /// <summary>Shorter than the 8 fixed bytes of the VRRP header.</summary>
    TooShort,
    /// <summary>The version nibble is neither 2 nor 3.</summary>
    BadVersion,
    /// <summary>The type nibble is not 1 (ADVERTISEMENT, the only type).</summary>
    BadType,
    /// <summary>Count IP Addrs is 0.</summary>
    NoAddresses,
    /// <summary>The length does not match Count IP Addrs (v2: 8 + 4n + 8 bytes; v3: 8 + 4n bytes).</summary>
    AddressCountMismatch,
    /// <summary>v2: the 8 bytes of Authentication Data are missing.</summary>
    BadAuthLength,
    /// <summary>v2: Auth Type is neither 0 (none) nor 1 (simple text password).</summary>
    BadAuthType,
    /// <summary>The advertisement interval is 0.</summary>
    BadInterval,
    /// <summary>The VRRP checksum does not match (v3 includes the IPv4 pseudo-header).</summary>
    BadChecksum,
}

/// <summary>
/// The outcome of reading a VRRP datagram: the advertisement (and, when read from a whole IPv4
/// datagram, its header), or the error with a message that says what was found.
/// </summary>
public readonly record struct VrrpParseResult(VrrpAdvertisement? Advertisement, Net.Ipv4Header? Header, VrrpError Error, string Message)
{
    /// <summary>True when <see cref="Advertisement"/> is set.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Advertisement))]
    public bool IsValid => Error == VrrpError.None && Advertisement is not null;

    internal static VrrpParseResult Fail(VrrpError error, string message) => new(null, null, error, message);

    /// <summary>"ok" or "Error: message".</summary>
    public override string ToString() => IsValid ? "ok" : $"{Error}: {Message}";
}
