using System.Buffers.Binary;
using System.Net.Sockets;
using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>
/// HAProxy's <c>option pgsql-check</c>: a startup message naming <c>user</c> and <c>database</c>, and the
/// server's first message judged by <see cref="PgsqlCheck.Classify"/> (an authentication request passes, an
/// ErrorResponse fails at the Server layer with its SQLSTATE). No password is sent, so it cannot tell a role.
/// </summary>
public sealed class PgsqlStartupCheck(string user, string database, TimeSpan timeout, TimeProvider time) : IBackendCheck
{
    /// <summary>Classify's own limit on one message, plus its header.</summary>
    const int MaxReply = 64 * 1024 + 5;
    /// <summary>Terminate ('X', length 4): ends a session that trust let in without a FATAL in the server's log.</summary>
    static readonly byte[] Terminate = [(byte)'X', 0, 0, 0, 4];
    readonly byte[] _startup = PgsqlCheck.StartupMessage(user, database);

    public string Type => "pgsql";

    public Task<CheckOutcome> RunAsync(CheckTarget target, CancellationToken ct)
        => CheckRun.TimedAsync(time, timeout, async token =>
        {
            var socket = await CheckSocket.ConnectAsync(target.Backend.Host, target.Backend.Port, token).ConfigureAwait(false);
            try
            {
                await socket.SendAsync(_startup, SocketFlags.None, token).ConfigureAwait(false);
                var buffer = new byte[1024];
                int filled = 0;
                while (true)
                {
                    if (filled == buffer.Length) Array.Resize(ref buffer, Math.Min(buffer.Length * 4, MaxReply));
                    int n = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, token).ConfigureAwait(false);
                    if (n == 0)
                        return CheckOutcome.Fail(CheckLayer.Protocol, filled == 0
                            ? "the server closed the connection without answering the startup message"
                            : $"the server closed the connection after {filled} bytes of an unfinished message");
                    filled += n;
                    var reply = PgsqlCheck.Classify(buffer.AsSpan(0, filled));
                    if (!reply.Complete) continue;
                    if (reply.Ok && IsAuthenticationOk(buffer.AsSpan(0, filled)))
                        await socket.SendAsync(Terminate, SocketFlags.None, token).ConfigureAwait(false);
                    return reply.Ok ? CheckOutcome.Pass(BackendRole.Unknown, reply.Detail) : CheckOutcome.Fail(reply.FailedAt, reply.Detail);
                }
            }
            finally
            {
                CheckSocket.Close(socket);
            }
        }, ct);

    /// <summary>'R' with code 0: the session is open (trust); any other request waits for a password we never send.</summary>
    static bool IsAuthenticationOk(ReadOnlySpan<byte> reply) => reply.Length >= 9 && reply[0] == 'R' && BinaryPrimitives.ReadInt32BigEndian(reply[5..]) == 0;
}
