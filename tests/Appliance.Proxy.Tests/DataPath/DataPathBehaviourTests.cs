#pragma warning disable CA5351 // md5() is what PostgreSQL computes in the queries: compared, not trusted
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Appliance.Proxy.Tests.Sessions;
using Appliance.TestKit;
using Npgsql;

namespace Appliance.Proxy.Tests.DataPath;

/// <summary>
/// The data-path behaviour suite, run against every data path: PostgreSQL traffic through the proxy
/// (large results, COPY both ways, cancel, TLS refused or passed), and byte-exact half-close, reset and
/// idle timeout against plain TCP servers. The sockmap path is in when <see cref="KernelCapabilities.Sockmap"/>
/// says this machine should have it (and then a sockmap that does not load fails every case).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DataPathBehaviourTests(TestPostgres pg)
{
    public static TheoryData<string> Paths => KernelCapabilities.Sockmap ? new() { "copy", "splice", "sockmap" } : new() { "copy", "splice" };
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    static string Row(int i) => string.Concat(Enumerable.Repeat(Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))), 30));

    [Theory, MemberData(nameof(Paths))]
    public async Task A_large_result_arrives_whole(string path)
    {
        await using var proxy = new TestProxy(path, pg.Port);
        await using var conn = new NpgsqlConnection(pg.ConnectionString(proxy.Port));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select i, repeat(md5(i::text), 30) from generate_series(1, 30000) i", conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        int rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
            Assert.Equal(rows, reader.GetInt32(0));
            Assert.Equal(Row(rows), reader.GetString(1));
        }
        Assert.Equal(30000, rows);
        Assert.True(proxy.Stats.BytesOut > 28_000_000, $"{proxy.Stats.BytesOut} bytes to the client");
        Assert.Equal(proxy.Stats.BytesOut, proxy.Pool.Stats.BytesOut);
        proxy.AssertSessionsTook(path);
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task Copy_out_and_copy_in_keep_every_byte(string path)
    {
        await using var proxy = new TestProxy(path, pg.Port);
        await using var conn = new NpgsqlConnection(pg.ConnectionString(proxy.Port));
        await conn.OpenAsync();
        const int N = 30000;
        using (var export = await conn.BeginTextExportAsync("COPY (select i, repeat(md5(i::text), 30) from generate_series(1, 30000) i) TO STDOUT"))
        {
            for (int i = 1; i <= N; i++) Assert.Equal($"{i}\t{Row(i)}", await export.ReadLineAsync());
            Assert.Null(await export.ReadLineAsync());
        }
        await using (var create = new NpgsqlCommand("create temp table t (i int, s text)", conn)) await create.ExecuteNonQueryAsync();
        using (var import = await conn.BeginTextImportAsync("COPY t FROM STDIN"))
        {
            for (int i = 1; i <= N; i++) await import.WriteAsync($"{i}\t{Row(i)}\n");
        }
        await using var check = new NpgsqlCommand("select count(*), md5(string_agg(s, ',' order by i)) from t", conn);
        await using var r = await check.ExecuteReaderAsync();
        Assert.True(await r.ReadAsync());
        Assert.Equal(N, r.GetInt64(0));
        var expected = Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(string.Join(',', Enumerable.Range(1, N).Select(Row)))));
        Assert.Equal(expected, r.GetString(1));
        proxy.AssertSessionsTook(path);
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task A_cancel_request_through_the_proxy_ends_a_running_query(string path)
    {
        await using var proxy = new TestProxy(path, pg.Port);
        await using var conn = new NpgsqlConnection(pg.ConnectionString(proxy.Port));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select pg_sleep(60)", conn);
        var running = cmd.ExecuteNonQueryAsync();
        await using (var direct = pg.Direct())
        {
            await direct.OpenAsync();
            await Wait.UntilAsync("pg_sleep(60) is running", async () =>
            {
                await using var q = new NpgsqlCommand("select count(*) from pg_stat_activity where query = 'select pg_sleep(60)' and state = 'active'", direct);
                return (long)(await q.ExecuteScalarAsync())! == 1;
            }, Deadline);
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        cmd.Cancel();
        // Npgsql reports a cancelled command as OperationCanceledException around the server's 57014.
        var e = await Assert.ThrowsAsync<OperationCanceledException>(() => running);
        Assert.Equal("57014", Assert.IsType<PostgresException>(e.InnerException).SqlState);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"cancelled after {sw.Elapsed}");
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task Ssl_refuse_answers_no_and_ssl_pass_gives_tls_end_to_end(string path)
    {
        await using (var refuse = new TestProxy(path, pg.Port, p => p with { Ssl = "refuse" }))
        {
            await using var conn = new NpgsqlConnection(pg.ConnectionString(refuse.Port, "SSL Mode=Prefer"));
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("select ssl from pg_stat_ssl where pid = pg_backend_pid()", conn);
            Assert.False((bool)(await cmd.ExecuteScalarAsync())!);
        }
        await using (var pass = new TestProxy(path, pg.Port, p => p with { Ssl = "pass" }))
        {
            await using var conn = new NpgsqlConnection(pg.ConnectionString(pass.Port, "SSL Mode=Require"));
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("select ssl from pg_stat_ssl where pid = pg_backend_pid()", conn);
            Assert.True((bool)(await cmd.ExecuteScalarAsync())!);
            await using var big = new NpgsqlCommand("select sum(length(repeat(md5(i::text), 30))) from generate_series(1, 1000) i", conn);
            Assert.Equal(960_000L, Convert.ToInt64(await big.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    static readonly byte[] Startup = PgsqlCheck.StartupMessage("raw");

    static async Task<Socket> ConnectAsync(int port)
    {
        var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return s;
    }

    /// <summary>Sends <paramref name="bytes"/> of a seeded random stream, hashing what it sent.</summary>
    static async Task SendStreamAsync(Socket s, long bytes, int seed, IncrementalHash hash, CancellationToken ct)
    {
        var random = new Random(seed);
        var chunk = new byte[64 * 1024];
        for (long left = bytes; left > 0;)
        {
            int n = (int)Math.Min(chunk.Length, left);
            random.NextBytes(chunk.AsSpan(0, n));
            hash.AppendData(chunk, 0, n);
            for (int sent = 0; sent < n;) sent += await s.SendAsync(chunk.AsMemory(sent, n - sent), SocketFlags.None, ct);
            left -= n;
        }
    }

    /// <summary>Reads until end of stream, hashing; returns the byte count.</summary>
    static async Task<long> ReceiveToEndAsync(Socket s, IncrementalHash hash, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        while (true)
        {
            int n = await s.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0) return total;
            hash.AppendData(buffer, 0, n);
            total += n;
        }
    }

    /// <summary>A sink's answer (SHA-256 and length, 40 bytes) read to the FIN after it; one byte more fits, to see an answer too long.</summary>
    static async Task<byte[]> ReceiveAnswerAsync(Socket s, CancellationToken ct)
    {
        var answer = new byte[41];
        int got = 0;
        for (int n; (n = await s.ReceiveAsync(answer.AsMemory(got), SocketFlags.None, ct)) > 0;) got += n;
        return answer[..got];
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task Client_half_close_delivers_every_byte_and_the_server_still_answers(string path)
    {
        // The sink reads to the client's FIN, then answers with the SHA-256 and length of what it got.
        await using var sink = new RawBackend(async (s, ct) =>
        {
            using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long n = await ReceiveToEndAsync(s, h, ct);
            await s.SendAsync(h.GetHashAndReset().Concat(BitConverter.GetBytes(n)).ToArray(), SocketFlags.None, ct);
            s.Shutdown(SocketShutdown.Send);
        });
        await using var proxy = new TestProxy(path, sink.Port);
        using var cts = new CancellationTokenSource(Deadline);
        using var client = await ConnectAsync(proxy.Port);
        using var sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await client.SendAsync(Startup, SocketFlags.None, cts.Token);
        sent.AppendData(Startup);
        const long Bytes = 40L << 20;
        await SendStreamAsync(client, Bytes, 1, sent, cts.Token);
        client.Shutdown(SocketShutdown.Send);
        var answer = await ReceiveAnswerAsync(client, cts.Token);
        Assert.Equal(40, answer.Length);
        Assert.Equal(sent.GetHashAndReset(), answer[..32]);
        Assert.Equal(Bytes + Startup.Length, BitConverter.ToInt64(answer, 32));
        await Wait.UntilAsync("the session ended normally", () => proxy.Listener.Sessions == 0 && proxy.Pool.Leases == 0, Deadline);
        Assert.Empty(proxy.Stats.Closed);
        // A client that streams before the server answered leaves sockmap a quiet moment to take the
        // sockets over only by chance: otherwise the session stays on the user-space path.
        proxy.AssertOneSessionOn(path == "sockmap" ? ["sockmap", "copy"] : [path]);
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task Client_half_close_after_the_server_answered_delivers_every_byte(string path)
    {
        // Like PostgreSQL, the sink answers the startup message first; then it reads to the client's FIN
        // and answers with the SHA-256 and length of what came after the startup.
        await using var sink = new RawBackend(async (s, ct) =>
        {
            await RawBackend.ReadExactlyAsync(s, Startup.Length, ct);
            await s.SendAsync("R"u8.ToArray(), SocketFlags.None, ct);
            using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long n = await ReceiveToEndAsync(s, h, ct);
            await s.SendAsync(h.GetHashAndReset().Concat(BitConverter.GetBytes(n)).ToArray(), SocketFlags.None, ct);
            s.Shutdown(SocketShutdown.Send);
        });
        await using var proxy = new TestProxy(path, sink.Port);
        using var cts = new CancellationTokenSource(Deadline);
        using var client = await ConnectAsync(proxy.Port);
        await client.SendAsync(Startup, SocketFlags.None, cts.Token);
        Assert.Equal(1, await client.ReceiveAsync(new byte[1], SocketFlags.None, cts.Token));
        using var sent = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        const long Bytes = 40L << 20;
        await SendStreamAsync(client, Bytes, 4, sent, cts.Token);
        client.Shutdown(SocketShutdown.Send);
        var answer = await ReceiveAnswerAsync(client, cts.Token);
        Assert.Equal(40, answer.Length);
        Assert.Equal(sent.GetHashAndReset(), answer[..32]);
        Assert.Equal(Bytes, BitConverter.ToInt64(answer, 32));
        await Wait.UntilAsync("the session ended normally", () => proxy.Listener.Sessions == 0 && proxy.Pool.Leases == 0, Deadline);
        Assert.Empty(proxy.Stats.Closed);
        Assert.Equal(Bytes + Startup.Length, proxy.Stats.BytesIn);
        proxy.AssertSessionsTook(path);
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task Server_half_close_delivers_every_byte_and_the_client_still_sends(string path)
    {
        const long Down = 40L << 20, Up = 10L << 20;
        using var expectedDown = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var serverGot = new TaskCompletionSource<(byte[] Hash, long Bytes)>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The source sends its bytes and its FIN at once, and meanwhile reads the client to its FIN.
        await using var source = new RawBackend(async (s, ct) =>
        {
            await RawBackend.ReadExactlyAsync(s, Startup.Length, ct);
            var reading = Task.Run(async () =>
            {
                using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                long n = await ReceiveToEndAsync(s, h, ct);
                serverGot.TrySetResult((h.GetHashAndReset(), n));
            }, ct);
            await SendStreamAsync(s, Down, 2, expectedDown, ct);
            s.Shutdown(SocketShutdown.Send);
            await reading;
        });
        await using var proxy = new TestProxy(path, source.Port);
        using var cts = new CancellationTokenSource(Deadline);
        using var client = await ConnectAsync(proxy.Port);
        await client.SendAsync(Startup, SocketFlags.None, cts.Token);
        using var received = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Assert.Equal(Down, await ReceiveToEndAsync(client, received, cts.Token));
        Assert.Equal(expectedDown.GetHashAndReset(), received.GetHashAndReset());
        // After the server's FIN the client direction is still open: send more, then FIN.
        using var sentUp = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await SendStreamAsync(client, Up, 3, sentUp, cts.Token);
        client.Shutdown(SocketShutdown.Send);
        var (hash, bytes) = await serverGot.Task.WaitAsync(cts.Token);
        Assert.Equal(Up, bytes);
        Assert.Equal(sentUp.GetHashAndReset(), hash);
        await Wait.UntilAsync("the session ended normally", () => proxy.Listener.Sessions == 0, Deadline);
        Assert.Empty(proxy.Stats.Closed);
        Assert.Equal(Down, proxy.Stats.BytesOut);
        Assert.Equal(Up + Startup.Length, proxy.Stats.BytesIn);
        proxy.AssertSessionsTook(path);
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task A_server_reset_resets_the_client(string path)
    {
        await using var resetter = new RawBackend(async (s, ct) =>
        {
            await RawBackend.ReadExactlyAsync(s, Startup.Length, ct);
            await s.SendAsync("hello"u8.ToArray(), SocketFlags.None, ct);
            s.LingerState = new LingerOption(true, 0);
            s.Close();
        });
        await using var proxy = new TestProxy(path, resetter.Port);
        using var client = await ConnectAsync(proxy.Port);
        await client.SendAsync(Startup, SocketFlags.None);
        var e = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            var b = new byte[100];
            using var cts = new CancellationTokenSource(Deadline);
            while (await client.ReceiveAsync(b, SocketFlags.None, cts.Token) > 0) { }
        });
        Assert.Equal(SocketError.ConnectionReset, e.SocketErrorCode);
        await Wait.UntilAsync("server_reset counted", () => proxy.Closed("server_reset") == 1, Deadline);
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task A_client_reset_resets_the_server(string path)
    {
        var serverSaw = new TaskCompletionSource<SocketError>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = new RawBackend(async (s, ct) =>
        {
            await RawBackend.ReadExactlyAsync(s, Startup.Length, ct);
            await s.SendAsync("R"u8.ToArray(), SocketFlags.None, ct);
            try
            {
                var b = new byte[100];
                while (await s.ReceiveAsync(b, SocketFlags.None, ct) > 0) { }
                serverSaw.TrySetResult(SocketError.Success);
            }
            catch (SocketException e) { serverSaw.TrySetResult(e.SocketErrorCode); }
        });
        await using var proxy = new TestProxy(path, backend.Port);
        var client = await ConnectAsync(proxy.Port);
        await client.SendAsync(Startup, SocketFlags.None);
        Assert.Equal(1, await client.ReceiveAsync(new byte[1], SocketFlags.None));
        client.LingerState = new LingerOption(true, 0);
        client.Close();
        Assert.Equal(SocketError.ConnectionReset, await serverSaw.Task.WaitAsync(Deadline));
        await Wait.UntilAsync("client_reset counted", () => proxy.Closed("client_reset") == 1, Deadline);
        // The reset may come before sockmap took the sockets over (then the user-space path saw it).
        proxy.AssertOneSessionOn(path == "sockmap" ? ["sockmap", "copy"] : [path]);
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task Connection_churn_leaves_no_session_and_no_map_entry_behind(string path)
    {
        await using var proxy = new TestProxy(path, pg.Port);
        const int Clients = 8, Each = 25;
        // Without TLS: PostgreSQL leaves a TLS client's close_notify unread and resets (a server_reset).
        var connection = pg.ConnectionString(proxy.Port, "SSL Mode=Disable");
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            for (int i = 0; i < Each; i++)
            {
                await using var conn = new NpgsqlConnection(connection);
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand($"select {c * Each + i}", conn);
                Assert.Equal(c * Each + i, await cmd.ExecuteScalarAsync());
            }
        })));
        await Wait.UntilAsync("every session ended", () => proxy.Listener.Sessions == 0 && proxy.Pool.Leases == 0, Deadline);
        Assert.Empty(proxy.Stats.Closed);
        proxy.AssertSessionsTook(path, Clients * Each);
        Assert.Equal(0, proxy.Paths.SockmapEntries);
    }

    [Theory, MemberData(nameof(Paths))]
    public async Task An_idle_session_is_closed_after_idle_timeout(string path)
    {
        await using var proxy = new TestProxy(path, pg.Port, p => p with { IdleTimeout = TimeSpan.FromSeconds(1) });
        await using var conn = new NpgsqlConnection(pg.ConnectionString(proxy.Port));
        await conn.OpenAsync();
        await using (var cmd = new NpgsqlCommand("select 1", conn)) Assert.Equal(1, await cmd.ExecuteScalarAsync());
        await Wait.UntilAsync("idle_timeout counted", () => proxy.Closed("idle_timeout") == 1, Deadline);
        await using var after = new NpgsqlCommand("select 1", conn);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => after.ExecuteScalarAsync());
        Assert.Equal(0, proxy.Pool.Leases);
        proxy.AssertSessionsTook(path);
    }
}
