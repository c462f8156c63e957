using System.Buffers.Binary;
using System.Text;
using Appliance.Proxy;

namespace Appliance.Core.Tests.Proxy;

/// <summary>The PostgreSQL-protocol health check's bytes and verdicts.</summary>
public class PgsqlCheckTests
{
    static byte[] Message(char type, byte[] body)
    {
        var m = new byte[5 + body.Length];
        m[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(1), 4 + body.Length);
        body.CopyTo(m, 5);
        return m;
    }

    static byte[] Int(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, v); return b; }

    [Fact] public void Startup_message_is_protocol_3_with_the_user_and_database()
    {
        var m = PgsqlCheck.StartupMessage("monitor");
        Assert.Equal(m.Length, BinaryPrimitives.ReadInt32BigEndian(m));
        Assert.Equal(196608, BinaryPrimitives.ReadInt32BigEndian(m.AsSpan(4)));
        Assert.Equal("user\0monitor\0database\0postgres\0application_name\0appliance-check\0\0", Encoding.UTF8.GetString(m, 8, m.Length - 8));
    }

    [Theory]
    [InlineData(0, "trust")]
    [InlineData(10, "SCRAM")]
    [InlineData(5, "MD5")]
    public void An_authentication_request_passes(int code, string detail)
    {
        var r = PgsqlCheck.Classify(Message('R', Int(code)));
        Assert.True(r.Complete && r.Ok);
        Assert.Contains(detail, r.Detail, StringComparison.Ordinal);
    }

    [Fact] public void A_server_that_is_starting_up_fails_with_its_sqlstate()
    {
        var body = Encoding.UTF8.GetBytes("SFATAL\0C57P03\0Mthe database system is starting up\0\0");
        var r = PgsqlCheck.Classify(Message('E', body));
        Assert.Equal(CheckReply.Fail(CheckLayer.Server, "57P03: the database system is starting up"), r);
    }

    [Fact] public void Partial_replies_ask_for_more()
    {
        var whole = Message('R', Int(10));
        for (int n = 0; n < whole.Length; n++) Assert.False(PgsqlCheck.Classify(whole.AsSpan(0, n)).Complete);
    }

    [Theory]
    [InlineData("HTTP/1.1 400 Bad Request\r\n")]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n")]
    public void Something_that_is_not_postgres_is_a_protocol_error(string text)
        => Assert.Equal(CheckLayer.Protocol, PgsqlCheck.Classify(Encoding.ASCII.GetBytes(text)).FailedAt);

    [Fact] public void A_truncated_error_field_is_a_protocol_error()
        => Assert.Equal(CheckLayer.Protocol, PgsqlCheck.Classify(Message('E', Encoding.UTF8.GetBytes("SFATAL"))).FailedAt);
}
