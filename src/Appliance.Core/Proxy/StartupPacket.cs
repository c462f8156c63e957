using System.Buffers.Binary;

namespace Appliance.Proxy;

/// <summary>What a client's first packet asks for.</summary>
public enum StartupKind
{
    /// <summary>Not all bytes of the packet are there yet: read more.</summary>
    Incomplete,
    /// <summary>A protocol-3 StartupMessage: the session proper (passed to the server as it is).</summary>
    Startup,
    /// <summary>SSLRequest: answered 'S' or 'N' with one byte, then the client sends its next packet (or TLS).</summary>
    SslRequest,
    /// <summary>GSSENCRequest: answered 'G' or 'N' with one byte, like the SSLRequest.</summary>
    GssEncRequest,
    /// <summary>CancelRequest: process id and secret key of the session whose query is to be cancelled.</summary>
    CancelRequest,
    /// <summary>Not a PostgreSQL first packet: the connection is closed.</summary>
    Invalid,
}

/// <summary>
/// The verdict on a client's first packet. <see cref="Length"/> is the whole packet's length (its prefix
/// included) once it is known; <see cref="Reason"/> says in words why an invalid one is refused, and
/// <see cref="Label"/> is the bounded metrics label of that refusal.
/// </summary>
public readonly record struct StartupPacket(StartupKind Kind, int Length, string Reason, string Label)
{
    /// <summary>
    /// Classifies the bytes received so far. A first packet is an Int32 length (itself included), an Int32
    /// code, then a body: the code is the protocol version of a StartupMessage (major 3 in the high 16 bits)
    /// or one of the special request codes (major 1234). PostgreSQL's own checks
    /// (<c>ProcessStartupPacket</c> in <c>src/backend/tcop/backend_startup.c</c>) are mirrored here so the
    /// proxy refuses what the server would, without spending a server connection on it.
    /// </summary>
    public static StartupPacket Classify(ReadOnlySpan<byte> received)
    {
        if (received.Length < 4) return More;
        int length = BinaryPrimitives.ReadInt32BigEndian(received);
        // "if (len < (int32) sizeof(ProtocolVersion) || len > MAX_STARTUP_PACKET_LENGTH)": the length
        // includes itself, so 8 is the smallest packet with a code.
        if (length < MinLength)
            return Invalid(length, $"a first packet of {length} bytes (at least {MinLength})", "too_short");
        if (length > MaxStartupPacketLength)
            return Invalid(length, $"a first packet of {length} bytes (at most {MaxStartupPacketLength})", "too_long");
        if (received.Length < 8) return More with { Length = length };
        int code = BinaryPrimitives.ReadInt32BigEndian(received[4..]);
        switch (code)
        {
            case SslRequestCode:
                return length == 8 ? Complete(StartupKind.SslRequest, received, length) : Invalid(length, $"an SSLRequest of {length} bytes (8)", "bad_request");
            case GssEncRequestCode:
                return length == 8 ? Complete(StartupKind.GssEncRequest, received, length) : Invalid(length, $"a GSSENCRequest of {length} bytes (8)", "bad_request");
            case CancelRequestCode:
                // 16 bytes with protocol 3.0's 4-byte key; protocol 3.2 (PostgreSQL 18) allows keys up
                // to 256 bytes, so longer packets are passed on as they are and the server judges them.
                return length is >= 16 and <= 12 + MaxCancelKeyLength
                    ? Complete(StartupKind.CancelRequest, received, length)
                    : Invalid(length, $"a CancelRequest of {length} bytes (16 to {12 + MaxCancelKeyLength})", "bad_request");
        }
        int major = code >>> 16, minor = code & 0xffff;
        if (major == 1234)
            return Invalid(length, $"an unknown request code {minor} (1234.{minor})", "unknown_request");
        if (major != 3)
            return Invalid(length, $"protocol {major}.{minor}: only 3.x is supported", "unsupported_protocol");
        return Complete(StartupKind.Startup, received, length);
    }

    /// <summary>PostgreSQL's MAX_STARTUP_PACKET_LENGTH (<c>src/include/libpq/pqcomm.h</c>).</summary>
    public const int MaxStartupPacketLength = 10000;
    /// <summary>The smallest first packet: a length and a code.</summary>
    public const int MinLength = 8;
    /// <summary>CANCEL_REQUEST_CODE: PG_PROTOCOL(1234,5678).</summary>
    public const int CancelRequestCode = 80877102;
    /// <summary>NEGOTIATE_SSL_CODE: PG_PROTOCOL(1234,5679).</summary>
    public const int SslRequestCode = 80877103;
    /// <summary>NEGOTIATE_GSS_CODE: PG_PROTOCOL(1234,5680).</summary>
    public const int GssEncRequestCode = 80877104;
    /// <summary>The longest cancel key protocol 3.2 allows (PostgreSQL 18's MAX_CANCEL_KEY_LENGTH).</summary>
    public const int MaxCancelKeyLength = 256;

    /// <summary>The bounded labels of <see cref="Label"/>, for metrics that must not grow with input.</summary>
    public static IReadOnlyList<string> Labels { get; } = ["too_short", "too_long", "bad_request", "unknown_request", "unsupported_protocol"];

    static StartupPacket More => new(StartupKind.Incomplete, 0, "", "");

    static StartupPacket Complete(StartupKind kind, ReadOnlySpan<byte> received, int length)
        => received.Length < length ? new(StartupKind.Incomplete, length, "", "") : new(kind, length, "", "");

    static StartupPacket Invalid(int length, string reason, string label) => new(StartupKind.Invalid, length, reason, label);
}
