using System.Buffers.Binary;
using Appliance.Proxy;

namespace Appliance.Core.Tests.Proxy;

/// <summary>The verdicts on a client's first packet, as bytes on the wire.</summary>
public class StartupPacketTests
{
    static byte[] Packet(int length, int code, int bodyBytes)
    {
        var p = new byte[8 + bodyBytes];
        BinaryPrimitives.WriteInt32BigEndian(p, length);
        BinaryPrimitives.WriteInt32BigEndian(p.AsSpan(4), code);
        return p;
    }

    static byte[] Startup(string pairs)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(pairs);
        var p = Packet(8 + body.Length, 196608, body.Length);
        body.CopyTo(p, 8);
        return p;
    }

    public static TheoryData<string, byte[], StartupKind, int, string> Rows() => new()
    {
        { "protocol 3.0 startup", Startup("user\0app\0\0"), StartupKind.Startup, 18, "" },
        { "protocol 3.2 startup", Packet(10, (3 << 16) | 2, 2), StartupKind.Startup, 10, "" },
        { "SSLRequest", Packet(8, 80877103, 0), StartupKind.SslRequest, 8, "" },
        { "GSSENCRequest", Packet(8, 80877104, 0), StartupKind.GssEncRequest, 8, "" },
        { "CancelRequest with a 4-byte key", Packet(16, 80877102, 8), StartupKind.CancelRequest, 16, "" },
        { "CancelRequest with a 3.2 long key", Packet(44, 80877102, 36), StartupKind.CancelRequest, 44, "" },
        { "nothing yet", [], StartupKind.Incomplete, 0, "" },
        { "half a length", [0, 0], StartupKind.Incomplete, 0, "" },
        { "a length, no code", [0, 0, 0, 8], StartupKind.Incomplete, 8, "" },
        { "a startup missing its body", Packet(40, 196608, 0), StartupKind.Incomplete, 40, "" },
        { "a cancel missing its key", Packet(16, 80877102, 4), StartupKind.Incomplete, 16, "" },
        { "length 7", [0, 0, 0, 7], StartupKind.Invalid, 7, "too_short" },
        { "length 0", [0, 0, 0, 0, 1, 2, 3, 4], StartupKind.Invalid, 0, "too_short" },
        { "negative length (garbage)", [0xff, 0xfe, 0x41, 0x42], StartupKind.Invalid, -114366, "too_short" },
        { "length 10001", [0, 0, 0x27, 0x11], StartupKind.Invalid, 10001, "too_long" },
        { "HTTP request (garbage)", "GET / HTTP/1.1\r\n"u8.ToArray(), StartupKind.Invalid, 0x47455420, "too_long" },
        { "length 10000 is allowed", Packet(10000, 196608, 0), StartupKind.Incomplete, 10000, "" },
        { "SSLRequest with a body", Packet(12, 80877103, 4), StartupKind.Invalid, 12, "bad_request" },
        { "GSSENCRequest with a body", Packet(12, 80877104, 4), StartupKind.Invalid, 12, "bad_request" },
        { "CancelRequest too short", Packet(12, 80877102, 4), StartupKind.Invalid, 12, "bad_request" },
        { "CancelRequest too long", Packet(12 + 257, 80877102, 0), StartupKind.Invalid, 269, "bad_request" },
        { "unknown 1234.5681", Packet(8, 80877105, 0), StartupKind.Invalid, 8, "unknown_request" },
        { "protocol 2.0", Packet(296, 2 << 16, 0), StartupKind.Invalid, 296, "unsupported_protocol" },
        { "protocol 4.0", Packet(8, 4 << 16, 0), StartupKind.Invalid, 8, "unsupported_protocol" },
    };

    [Theory, MemberData(nameof(Rows))]
    public void First_packet_is_classified(string what, byte[] bytes, StartupKind kind, int length, string label)
    {
        var p = StartupPacket.Classify(bytes);
        Assert.True(kind == p.Kind, $"{what}: {p.Kind}, expected {kind}");
        Assert.Equal(length, p.Length);
        Assert.Equal(label, p.Label);
        if (kind == StartupKind.Invalid)
        {
            Assert.NotEmpty(p.Reason);
            Assert.Contains(p.Label, StartupPacket.Labels);
        }
    }

    [Fact]
    public void Bytes_after_the_first_packet_do_not_change_the_verdict()
    {
        // A client may send its TLS hello or next packet right behind an SSLRequest.
        var p = Packet(8, 80877103, 0).Concat(new byte[] { 0x16, 3, 1 }).ToArray();
        Assert.Equal(new StartupPacket(StartupKind.SslRequest, 8, "", ""), StartupPacket.Classify(p));
    }

    [Fact]
    public void Every_prefix_of_a_valid_packet_asks_for_more_and_random_bytes_never_throw()
    {
        var whole = Startup("user\0postgres\0database\0postgres\0\0");
        for (int i = 0; i < whole.Length; i++)
            Assert.Equal(StartupKind.Incomplete, StartupPacket.Classify(whole.AsSpan(0, i)).Kind);
        var random = new Random(5);
        for (int i = 0; i < 10000; i++)
        {
            var junk = new byte[random.Next(0, 24)];
            random.NextBytes(junk);
            var p = StartupPacket.Classify(junk);
            Assert.True(p.Kind != StartupKind.Invalid || StartupPacket.Labels.Contains(p.Label));
        }
    }
}
