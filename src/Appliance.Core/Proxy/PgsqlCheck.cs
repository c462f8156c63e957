using System.Buffers.Binary;
using System.Text;

namespace Appliance.Proxy;

/// <summary>Which layer a health check failed at: what an operator needs to know first.</summary>
public enum CheckLayer { None, Refused, Timeout, Protocol, Server, WrongRole }

/// <summary>The outcome of reading a check's reply so far.</summary>
public readonly record struct CheckReply(bool Complete, bool Ok, CheckLayer FailedAt, string Detail)
{
    public static CheckReply More => new(false, false, CheckLayer.None, "");
    public static CheckReply Pass(string detail) => new(true, true, CheckLayer.None, detail);
    public static CheckReply Fail(CheckLayer layer, string detail) => new(true, false, layer, detail);
}

/// <summary>
/// HAProxy's <c>option pgsql-check</c>, pure: a protocol-3.0 startup message, and the verdict on the first
/// message the server sends back — an authentication request (or AuthenticationOk) means PostgreSQL accepts
/// connections; an ErrorResponse (starting up, shutting down, too many clients…) fails with its SQLSTATE and
/// message; anything else is a protocol error. No password is ever sent.
/// </summary>
public static class PgsqlCheck
{
    const int ProtocolVersion3 = 196608;

    /// <summary>The StartupMessage: length, protocol 3.0, then name/value pairs, each NUL-terminated, and a final NUL.</summary>
    public static byte[] StartupMessage(string user, string database = "postgres", string applicationName = "appliance-check")
    {
        var body = new StringBuilder();
        foreach (var (k, v) in new[] { ("user", user), ("database", database), ("application_name", applicationName) })
            body.Append(k).Append('\0').Append(v).Append('\0');
        body.Append('\0');
        var pairs = Encoding.UTF8.GetBytes(body.ToString());
        var msg = new byte[8 + pairs.Length];
        BinaryPrimitives.WriteInt32BigEndian(msg, msg.Length);
        BinaryPrimitives.WriteInt32BigEndian(msg.AsSpan(4), ProtocolVersion3);
        pairs.CopyTo(msg, 8);
        return msg;
    }

    /// <summary>Judges the bytes received so far; <see cref="CheckReply.More"/> until one whole message is there.</summary>
    public static CheckReply Classify(ReadOnlySpan<byte> reply)
    {
        if (reply.Length < 5) return CheckReply.More;
        byte type = reply[0];
        int length = BinaryPrimitives.ReadInt32BigEndian(reply[1..]);
        if (length < 4 || length > 64 * 1024) return CheckReply.Fail(CheckLayer.Protocol, $"message '{(char)type}' with a length of {length}: not PostgreSQL");
        if (reply.Length < 1 + length) return CheckReply.More;
        var body = reply.Slice(5, length - 4);
        return type switch
        {
            (byte)'R' when body.Length >= 4 => CheckReply.Pass(AuthName(BinaryPrimitives.ReadInt32BigEndian(body))),
            (byte)'E' => Error(body),
            _ => CheckReply.Fail(CheckLayer.Protocol, $"unexpected message '{(char)type}' in answer to a startup message"),
        };
    }

    static string AuthName(int code) => code switch
    {
        0 => "accepts connections (trust)",
        3 => "accepts connections (asks for a password)",
        5 => "accepts connections (asks for an MD5 password)",
        10 => "accepts connections (asks for SCRAM)",
        _ => $"accepts connections (authentication request {code})",
    };

    /// <summary>ErrorResponse: fields of a type byte and a NUL-terminated string, ended by a NUL.</summary>
    static CheckReply Error(ReadOnlySpan<byte> body)
    {
        string? code = null, message = null;
        while (body.Length > 0 && body[0] != 0)
        {
            byte field = body[0];
            int end = body[1..].IndexOf((byte)0);
            if (end < 0) return CheckReply.Fail(CheckLayer.Protocol, "an ErrorResponse field without its terminator");
            var value = Encoding.UTF8.GetString(body.Slice(1, end));
            if (field == 'C') code = value;
            else if (field == 'M') message = value;
            body = body[(end + 2)..];
        }
        return CheckReply.Fail(CheckLayer.Server, $"{code ?? "?????"}: {message ?? "error without a message"}");
    }
}
