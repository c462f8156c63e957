using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Appliance.Balancer.Proxy.DataPath;
using Appliance.Balancer.Proxy.DataPath.Sockmap;
using Appliance.Lab;
using Appliance.Linux.Bpf;
using Appliance.Linux.Net;
using Appliance.Proxy.Tests.Sessions;
using Appliance.TestKit;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Appliance.Proxy.Tests.DataPath;

/// <summary>
/// The sockmap loader: the embedded object says what native/sockmap/sockmap.h says, and each way loading
/// can fail (a map the balancer looks for is missing, the verifier rejects the program, no CAP_BPF) is one
/// clear error, after which the listener serves on the copy path.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SockmapLoaderTests(TestPostgres pg)
{
    [Fact]
    public void The_embedded_object_holds_the_maps_and_the_program_of_the_header()
    {
        var o = SockmapKernel.Embedded();
        Assert.Equal(18u, o.Map(SockmapKernel.SocketsMap).Type); // BPF_MAP_TYPE_SOCKHASH
        Assert.Equal((uint)Marshal.SizeOf<SockmapPeer>(), o.Map(SockmapKernel.PeersMap).ValueSize);
        Assert.Equal(8u, o.Map(SockmapKernel.TakenMap).ValueSize);
        var verdict = o.Program(SockmapKernel.Verdict);
        Assert.Equal("sk_skb/stream_verdict", verdict.Section);
        Assert.Contains(verdict.MapReferences, r => r.Map == SockmapKernel.SocketsMap);
        Assert.Equal("Dual MIT/GPL", o.License);
    }

    [Fact]
    public async Task A_missing_map_name_is_named_and_the_listener_serves_on_copy()
    {
        // The object as a build that renamed a map would make it: the balancer's lookup must say so.
        var o = SockmapKernel.Embedded();
        string Rename(string m) => m == SockmapKernel.TakenMap ? "appliance_tokens" : m;
        var renamed = o with
        {
            Maps = [.. o.Maps.Select(m => m with { Name = Rename(m.Name) })],
            Programs = [.. o.Programs.Select(p => p with { MapReferences = [.. p.MapReferences.Select(r => (r.Instruction, Rename(r.Map)))] })],
        };
        var e = Assert.Throws<BpfException>(() => SockmapKernel.Load(renamed).Dispose());
        Assert.Contains("no map named appliance_taken", e.Message, StringComparison.Ordinal);
        Assert.Contains("appliance_tokens", e.Message, StringComparison.Ordinal);
        await ServesOnCopyAsync(() => SockmapKernel.Load(renamed), "no map named appliance_taken");
    }

    [Fact]
    public async Task A_program_the_verifier_rejects_comes_with_the_verifiers_log_and_the_listener_serves_on_copy()
    {
        // "exit" with r0 never set: the verifier refuses to let an uninitialised register out.
        var o = SockmapKernel.Embedded();
        var broken = o with
        {
            Programs = [.. o.Programs.Select(p => p with { Instructions = [0x95, 0, 0, 0, 0, 0, 0, 0], MapReferences = [] })],
        };
        var e = Assert.Throws<BpfException>(() => SockmapKernel.Load(broken).Dispose());
        Assert.Contains("loading program appliance_verdict failed", e.Message, StringComparison.Ordinal);
        Assert.Contains("R0", e.VerifierLog, StringComparison.Ordinal);
        Assert.Contains("the verifier said", e.Message, StringComparison.Ordinal);
        await ServesOnCopyAsync(() => SockmapKernel.Load(broken), "the verifier said");
    }

    [Fact]
    public async Task Bytes_that_arrive_while_the_sockets_go_in_are_not_stranded()
    {
        // The server answers the startup, then echoes one byte per byte. The client's first byte lands on
        // the proxy's socket after the drain and before the insertion: only the nudge brings it to the verdict.
        await using var echo = new RawBackend(async (s, ct) =>
        {
            await RawBackend.ReadExactlyAsync(s, Startup.Length, ct);
            await s.SendAsync("R"u8.ToArray(), SocketFlags.None, ct);
            var b = new byte[1];
            while (await s.ReceiveAsync(b, SocketFlags.None, ct) == 1) await s.SendAsync(b, SocketFlags.None, ct);
        });
        await using var proxy = new TestProxy("sockmap", echo.Port);
        using var client = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, proxy.Port));
        SockmapPair.BeforeInsertForTests = async (proxyClient, _) =>
        {
            await client.SendAsync("Q"u8.ToArray(), SocketFlags.None);
            await Wait.UntilAsync("the byte reached the proxy's socket", () => TcpSocketInfo.Unread((int)proxyClient.Handle) > 0, TimeSpan.FromSeconds(30));
        };
        try
        {
            await client.SendAsync(Startup, SocketFlags.None);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var got = new byte[2];
            for (int n = 0; n < 2;) n += await client.ReceiveAsync(got.AsMemory(n), SocketFlags.None, cts.Token);
            Assert.Equal("RQ"u8.ToArray(), got);
        }
        finally
        {
            SockmapPair.BeforeInsertForTests = null;
        }
        // The kernel may echo before the session has counted its path.
        await Wait.UntilAsync("the session counted", () => proxy.Stats.Paths.Count > 0, TimeSpan.FromSeconds(30));
        proxy.AssertSessionsTook("sockmap");
    }

    static readonly byte[] Startup = PgsqlCheck.StartupMessage("raw");

    async Task ServesOnCopyAsync(Func<SockmapKernel> load, string reason)
    {
        await using var proxy = new TestProxy("sockmap", pg.Port, new DataPaths(TimeProvider.System, NullLogger.Instance, load));
        Assert.Equal("copy", proxy.DataPath.Name);
        Assert.Contains(reason, proxy.Paths.Unavailable("sockmap"), StringComparison.Ordinal);
        await using var conn = new NpgsqlConnection(pg.ConnectionString(proxy.Port));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select 42", conn);
        Assert.Equal(42, await cmd.ExecuteScalarAsync());
        proxy.AssertSessionsTook("copy");
    }

    [Fact]
    public async Task Without_CAP_BPF_the_balancer_says_why_once_and_serves_on_copy()
    {
        // The balancer as an operator runs it, as root but with CAP_BPF and CAP_SYS_ADMIN out of its
        // bounding set (what a unit without them gives).
        using var dir = new TempDir("appl-sockmap-nocap");
        int port = FreePorts.Next(), metrics = FreePorts.Next();
        var toml = Path.Combine(dir.Path, "balancer.toml");
        await File.WriteAllTextAsync(toml, $"""
            [balancer]
            listen = "127.0.0.1:{metrics}"

            [proxy]
            discovery = "static"
            data_path = "sockmap"

            [proxy.check]
            type = "tcp"

            [[proxy.listener]]
            name = "primary"
            bind = "127.0.0.1:{port}"
            role = "primary"

            [[proxy.backend]]
            name = "pg"
            address = "127.0.0.1:{pg.Port}"
            """);
        var dll = Path.Combine(AppContext.BaseDirectory, "appliance-balancer.dll");
        await using var balancer = ChildProcess.Start("balancer", "setpriv",
            ["--bounding-set", "-bpf,-sys_admin", "--", "dotnet", dll, "run", "-c", toml], Path.Combine(dir.Path, "balancer.log"));
        await Wait.UntilAsync("select 1 through the balancer", async () =>
        {
            Assert.False(balancer.HasExited, balancer.LogTail());
            try
            {
                await using var conn = new NpgsqlConnection(pg.ConnectionString(port, "Timeout=2"));
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand("select 1", conn);
                return (int)(await cmd.ExecuteScalarAsync())! == 1;
            }
            catch (NpgsqlException) { return false; }
        }, TimeSpan.FromSeconds(60));
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{metrics}/metrics"));
        Assert.Contains("appliance_proxy_listener_data_path{listener=\"primary\",path=\"copy\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("appliance_proxy_listener_data_path_fallback{listener=\"primary\",wanted=\"sockmap\"} 1", text, StringComparison.Ordinal);
        var log = File.ReadAllText(balancer.LogPath);
        var said = log.Split('\n').Where(l => l.Contains("data_path = \"sockmap\" is not available here", StringComparison.Ordinal)).ToList();
        Assert.True(said.Count == 1, log);
        Assert.Contains("CAP_BPF", said[0], StringComparison.Ordinal);
    }
}
