using System.Net;
using System.Net.Sockets;
using Appliance.TestKit;
using Npgsql;

namespace Appliance.Proxy.Tests.Sessions;

/// <summary>
/// Bad input: each case is closed with its counted reason, the process's descriptors return to their
/// count before the case (no socket, pipe or lease leaks), and a PostgreSQL session through the same
/// proxy keeps working meanwhile.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BadInputTests(TestPostgres pg)
{
    public static TheoryData<string> Paths => new() { "copy", "splice" };
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The descriptors a proxy could leak: sockets, pipes and anonymous inodes (epoll, eventfd). Files are
    /// left out: the test host maps assemblies as it first needs them, which is not a leak.
    /// </summary>
    static int OpenFds() => FdTargets().Length;

    /// <summary>Each such descriptor's target (socket:[inode], pipe:[inode], anon_inode:[eventpoll]): named in a failure, so a leak says what leaked.</summary>
    static string[] FdTargets() => [.. Directory.GetFiles("/proc/self/fd")
        .Select(f => { try { return new FileInfo(f).LinkTarget ?? ""; } catch (IOException) { return ""; } })
        .Where(t => t.StartsWith("socket:", StringComparison.Ordinal) || t.StartsWith("pipe:", StringComparison.Ordinal) || t.StartsWith("anon_inode:", StringComparison.Ordinal))];

    static async Task<Socket> ConnectAsync(int port)
    {
        var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return s;
    }

    /// <summary>Waits until the proxy closes the connection (end of stream or reset).</summary>
    static async Task ClosedByProxyAsync(Socket s)
    {
        using var cts = new CancellationTokenSource(Deadline);
        var b = new byte[256];
        try { while (await s.ReceiveAsync(b, SocketFlags.None, cts.Token) > 0) { } }
        catch (SocketException) { }
    }

    /// <summary>Runs one bad case against a proxy with short timeouts, with a working session alongside, and checks reason and descriptors.</summary>
    static async Task CaseAsync(TestPostgres pg, string path, int backendPort, string reason, Func<int, Task> badClient)
    {
        await using var proxy = new TestProxy(path, backendPort, p => p with
        {
            StartupTimeout = TimeSpan.FromSeconds(1),
            ServerTimeout = TimeSpan.FromSeconds(1),
        });
        // The bystander goes straight to PostgreSQL's port through a second proxy with no short timeouts.
        await using var good = new TestProxy(path, pg.Port);
        await using var conn = new NpgsqlConnection(pg.ConnectionString(good.Port));
        await conn.OpenAsync();
        await Wait.UntilAsync("the proxy is settled", () => proxy.Listener.Sessions == 0, Deadline);
        int before = OpenFds();
        var beforeTargets = FdTargets();

        await badClient(proxy.Port);
        await using (var cmd = new NpgsqlCommand("select 41 + 1", conn)) Assert.Equal(42, await cmd.ExecuteScalarAsync());

        await Wait.UntilAsync($"{reason} counted", () => proxy.Closed(reason) == 1, Deadline);
        Assert.Equal([reason], proxy.Stats.Closed.Keys);
        try
        {
            await Wait.UntilAsync($"descriptors back to {before}", () => OpenFds() <= before && proxy.Listener.Sessions == 0 && proxy.Pool.Leases == 0, Deadline);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}: now {OpenFds()}, sessions {proxy.Listener.Sessions}, leases {proxy.Pool.Leases}, new: {string.Join(", ", FdTargets().Except(beforeTargets))}", e);
        }
        await using (var cmd = new NpgsqlCommand("select 6 * 7", conn)) Assert.Equal(42, await cmd.ExecuteScalarAsync());
    }

    [Theory, MemberData(nameof(Paths))]
    public Task Garbage_is_closed_as_bad_startup(string path) => CaseAsync(pg, path, pg.Port, "bad_startup", async port =>
    {
        using var s = await ConnectAsync(port);
        await s.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), SocketFlags.None);
        await ClosedByProxyAsync(s);
    });

    [Theory, MemberData(nameof(Paths))]
    public Task An_oversized_length_is_closed_as_bad_startup(string path) => CaseAsync(pg, path, pg.Port, "bad_startup", async port =>
    {
        using var s = await ConnectAsync(port);
        await s.SendAsync(new byte[] { 0, 1, 0, 0, 0, 3, 0, 0 }, SocketFlags.None);
        await ClosedByProxyAsync(s);
    });

    [Theory, MemberData(nameof(Paths))]
    public Task A_truncated_startup_then_silence_is_closed_at_startup_timeout(string path) => CaseAsync(pg, path, pg.Port, "startup_timeout", async port =>
    {
        using var s = await ConnectAsync(port);
        await s.SendAsync(PgsqlCheck.StartupMessage("postgres").AsMemory(0, 12), SocketFlags.None);
        await ClosedByProxyAsync(s);
    });

    [Theory, MemberData(nameof(Paths))]
    public Task A_client_that_sends_nothing_is_closed_at_startup_timeout(string path) => CaseAsync(pg, path, pg.Port, "startup_timeout", async port =>
    {
        using var s = await ConnectAsync(port);
        await ClosedByProxyAsync(s);
    });

    [Theory, MemberData(nameof(Paths))]
    public async Task A_server_that_never_answers_is_closed_at_server_timeout(string path)
    {
        await using var mute = new RawBackend(async (s, ct) =>
        {
            var b = new byte[1024];
            while (await s.ReceiveAsync(b, SocketFlags.None, ct) > 0) { }
        });
        await CaseAsync(pg, path, mute.Port, "server_timeout", async port =>
        {
            using var s = await ConnectAsync(port);
            await s.SendAsync(PgsqlCheck.StartupMessage("postgres"), SocketFlags.None);
            await ClosedByProxyAsync(s);
        });
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task A_server_leaving_the_pool_closes_its_sessions_at_once(string path)
    {
        await using var proxy = new TestProxy(path, pg.Port);
        await using var conn = new NpgsqlConnection(pg.ConnectionString(proxy.Port));
        await conn.OpenAsync();
        await using (var cmd = new NpgsqlCommand("select 1", conn)) Assert.Equal(1, await cmd.ExecuteScalarAsync());
        proxy.Pool.TakeDown();
        await Wait.UntilAsync("shutdown_sessions counted", () => proxy.Closed("shutdown_sessions") == 1, Deadline);
        Assert.Equal(0, proxy.Pool.Leases);
    }
}
