using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Appliance.Balancer.Proxy.Checks;

namespace Appliance.Proxy.Tests.Checks;

/// <summary>
/// Every check names the layer it failed at, against real sockets: a closed port (Refused), a server that
/// accepts and never answers (Timeout), a server that answers garbage (Protocol), a PostgreSQL error (Server).
/// </summary>
public sealed class CheckLayerTests
{
    static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);
    static readonly TimeProvider Time = TimeProvider.System;

    public static TheoryData<string> AllTypes => ["http", "pgsql", "pgsql-login", "tcp"];

    static IBackendCheck Make(string type, TimeSpan timeout) => type switch
    {
        "http" => new HttpCheck(timeout, null, Time),
        "pgsql" => new PgsqlStartupCheck("postgres", "postgres", timeout, Time),
        "pgsql-login" => new PgsqlLoginCheck("postgres", "not-the-password", "postgres", timeout, Time),
        _ => new TcpCheck(timeout, Time),
    };

    /// <summary>The http check asks the API port; the others PostgreSQL's: point both at the same place.</summary>
    static CheckTarget Target(int port) => CheckTargets.At(port, $"http://127.0.0.1:{port}");

    [Theory]
    [MemberData(nameof(AllTypes))]
    public async Task A_closed_port_fails_at_Refused(string type)
    {
        var check = Make(type, TimeSpan.FromSeconds(5));
        var o = await check.RunAsync(Target(CheckTargets.ClosedPort()), CancellationToken.None);
        Assert.False(o.Ok);
        Assert.Equal(CheckLayer.Refused, o.Layer);
        (check as IDisposable)?.Dispose();
    }

    [Theory]
    [InlineData("http")]
    [InlineData("pgsql")]
    [InlineData("pgsql-login")]
    public async Task A_server_that_accepts_and_never_answers_fails_at_Timeout(string type)
    {
        await using var server = ScriptedServer.Silent();
        var check = Make(type, Short);
        var o = await check.RunAsync(Target(server.Port), CancellationToken.None);
        Assert.False(o.Ok);
        Assert.Equal(CheckLayer.Timeout, o.Layer);
        Assert.True(o.Latency >= Short * 0.9, $"gave up after {o.Latency.TotalMilliseconds} ms, before its timeout");
        Assert.Equal(1, server.Accepted);
        (check as IDisposable)?.Dispose();
    }

    [Fact]
    public async Task A_tcp_connect_that_gets_no_answer_fails_at_Timeout()
    {
        // A listener whose accept queue is full: the kernel drops further SYNs, so connect hangs (a real L4 timeout).
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            // Fill the queue until a connect no longer completes (each filler stays queued, never accepted).
            bool full = false;
            for (int i = 0; i < 64 && !full; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
                try { await filler.ConnectAsync(IPAddress.Loopback, port, cts.Token); }
                catch (OperationCanceledException) { full = true; }
            }
            Assert.True(full, "the accept queue never filled");
            var o = await new TcpCheck(Short, Time).RunAsync(CheckTargets.At(port), CancellationToken.None);
            Assert.False(o.Ok);
            Assert.Equal(CheckLayer.Timeout, o.Layer);
        }
        finally
        {
            fillers.ForEach(s => s.Dispose());
        }
    }

    [Theory]
    [InlineData("http")]
    [InlineData("pgsql")]
    [InlineData("pgsql-login")]
    public async Task A_server_that_answers_garbage_fails_at_Protocol(string type)
    {
        await using var server = ScriptedServer.Answering(Encoding.ASCII.GetBytes("garbage, not a protocol anyone speaks\r\n\r\n"));
        var check = Make(type, TimeSpan.FromSeconds(5));
        var o = await check.RunAsync(Target(server.Port), CancellationToken.None);
        Assert.False(o.Ok);
        Assert.Equal(CheckLayer.Protocol, o.Layer);
        (check as IDisposable)?.Dispose();
    }

    [Theory]
    [InlineData("http")]
    [InlineData("pgsql")]
    public async Task A_server_that_closes_without_answering_fails_at_Protocol(string type)
    {
        await using var server = ScriptedServer.Closing();
        var check = Make(type, TimeSpan.FromSeconds(5));
        var o = await check.RunAsync(Target(server.Port), CancellationToken.None);
        Assert.False(o.Ok);
        Assert.Equal(CheckLayer.Protocol, o.Layer);
        (check as IDisposable)?.Dispose();
    }

    [Fact]
    public async Task The_pgsql_check_fails_at_Server_with_the_SQLSTATE_of_an_ErrorResponse()
    {
        // What PostgreSQL sends a startup message while it recovers (postmaster.c: canAcceptConnections).
        await using var server = ScriptedServer.Answering(ErrorResponse("57P03", "the database system is starting up"));
        var o = await new PgsqlStartupCheck("postgres", "postgres", TimeSpan.FromSeconds(5), Time).RunAsync(CheckTargets.At(server.Port), CancellationToken.None);
        Assert.False(o.Ok);
        Assert.Equal(CheckLayer.Server, o.Layer);
        Assert.StartsWith("57P03", o.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_http_check_says_WrongRole_with_both_statuses_when_the_node_is_neither()
    {
        // A REST API answering 503 to both, as Patroni's does on a node whose PostgreSQL is not running.
        var reply = "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n"u8.ToArray();
        await using var server = ScriptedServer.Answering(reply);
        using var check = new HttpCheck(TimeSpan.FromSeconds(5), 1048576, Time);
        var o = await check.RunAsync(CheckTargets.Api(server.Port), CancellationToken.None);
        Assert.False(o.Ok);
        Assert.Equal(CheckLayer.WrongRole, o.Layer);
        Assert.Contains("/primary: 503", o.Detail, StringComparison.Ordinal);
        Assert.Contains("/replica?lag=1048576: 503", o.Detail, StringComparison.Ordinal);
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task A_cancelled_check_throws_instead_of_reporting_a_Timeout()
    {
        await using var server = ScriptedServer.Silent();
        using var cts = new CancellationTokenSource();
        var running = new PgsqlStartupCheck("postgres", "postgres", TimeSpan.FromMinutes(5), Time).RunAsync(CheckTargets.At(server.Port), cts.Token);
        await Appliance.TestKit.Wait.UntilAsync("the check connected", () => server.Accepted == 1, TimeSpan.FromSeconds(10));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    [Fact]
    public async Task The_http_check_reaches_the_root_of_an_api_url_that_ends_in_patroni()
    {
        // A member key's api_url is Patroni's http://host:port/patroni; the health endpoints are at the root.
        var seen = new TaskCompletionSource<string>();
        await using var server = new ScriptedServer(async (s, ct) =>
        {
            var buffer = new byte[4096];
            int n = await s.ReceiveAsync(buffer, SocketFlags.None, ct);
            seen.TrySetResult(Encoding.ASCII.GetString(buffer, 0, n).Split("\r\n")[0]);
            await s.SendAsync("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), SocketFlags.None, ct);
            s.Shutdown(SocketShutdown.Send);
        });
        using var check = new HttpCheck(TimeSpan.FromSeconds(5), null, Time);
        var o = await check.RunAsync(CheckTargets.At(1, $"http://127.0.0.1:{server.Port}/patroni"), CancellationToken.None);
        Assert.True(o.Ok, o.Detail);
        Assert.Equal(BackendRole.Primary, o.Role);
        Assert.Equal("OPTIONS /primary HTTP/1.1", await seen.Task);
    }

    static byte[] ErrorResponse(string sqlstate, string message)
    {
        var body = Encoding.UTF8.GetBytes($"SFATAL\0VFATAL\0C{sqlstate}\0M{message}\0\0");
        var msg = new byte[5 + body.Length];
        msg[0] = (byte)'E';
        BinaryPrimitives.WriteInt32BigEndian(msg.AsSpan(1), 4 + body.Length);
        body.CopyTo(msg, 5);
        return msg;
    }
}
