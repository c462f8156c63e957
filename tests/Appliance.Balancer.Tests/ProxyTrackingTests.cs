using Appliance.Lab.Balancer;
using Appliance.Lab.Netns;
using Appliance.TestKit;
using Tmds.Linux;

namespace Appliance.Balancer.Tests;

/// <summary>
/// The proxy's own health as a VRRP tracked condition: a balancer whose proxy can route no primary drops
/// its priority by <c>proxy.track_weight</c> and hands the VIP to a peer whose proxy can. Two published
/// balancers in namespaces, each proxying to a "primary" inside its own namespace (static discovery,
/// tcp check). Needs root.
/// </summary>
[Collection("netns")]
public sealed class ProxyTrackingTests
{
    static readonly TimeSpan Deadline = VipLab.Deadline;
    const int BackendPort = 7432;

    /// <summary>A proxy on the VIP's port 5000 to one static server on this node; the tcp check decides alone.</summary>
    static string Proxy(int backendPort) => $"""

        [proxy]
        discovery = "static"
        track_weight = -50
        [proxy.check]
        type = "tcp"
        inter = 0.2
        rise = 1
        fall = 1
        [[proxy.listener]]
        name = "primary"
        bind = "{SeedTopology.Vip}:5000"
        role = "primary"
        [[proxy.backend]]
        name = "db"
        address = "127.0.0.1:{backendPort}"
        """;

    [Fact]
    public async Task A_node_whose_proxy_sees_no_primary_gives_the_vip_to_a_peer_whose_proxy_does()
    {
        await using var lab = await VipLab.CreateAsync();
        // lb1's "primary": a TCP server in lb1's namespace that the test stops; lb2's: its own status listener, always there.
        await using var server = lab.Topology.Start("lb1", "fake-primary", "/usr/bin/python3", ["-m", "http.server", BackendPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1"]);
        var a = lab.StartOurs("lb1", VipLab.Ours(3, 100) with { Extra = Proxy(BackendPort) });
        var b = lab.StartOurs("lb2", VipLab.Ours(3, 90) with { Extra = Proxy(8009) });
        await VipLab.WithLogsAsync(() => $"--- lb1 ---\n{a.LogTail()}\n--- lb2 ---\n{b.LogTail()}", async () =>
        {
            // The listener is bound to the VIP before either node holds it (IP_FREEBIND).
            await Wait.UntilAsync("lb1 (its proxy routing a primary) holds the VIP and lb2 does not",
                async () => await lab.HoldsVipAsync("lb1") && !await lab.HoldsVipAsync("lb2"), Deadline);
            await Wait.UntilAsync("lb1's /proxy says it sees a primary",
                async () => (await a.GetAsync("/proxy"))?.Contains("\"sees_primary\":true", StringComparison.Ordinal) == true, Deadline);

            server.Signal(LibC.SIGKILL);
            await Wait.UntilAsync("lb2 holds the VIP after lb1's proxy lost its primary",
                async () => await lab.HoldsVipAsync("lb2") && !await lab.HoldsVipAsync("lb1"), Deadline);
            var status = await a.GetAsync("/status");
            Assert.Contains("\"effective_priority\":50", status, StringComparison.Ordinal);
            var metrics = await a.GetAsync("/metrics");
            Assert.Contains("appliance_proxy_sees_primary 0", metrics, StringComparison.Ordinal);
            Assert.Contains("appliance_proxy_check_failed_layer{backend=\"db\",layer=\"refused\"} 1", metrics, StringComparison.Ordinal);
        });
    }

    // A server that holds every connection open and says when one that carried bytes (a proxied
    // session, not a tcp check) is closed from the proxy's side.
    const string HoldingServer = """
        import socket, threading
        def serve(c):
            got = False
            while True:
                b = c.recv(65536)
                if not b:
                    break
                if not got:
                    got = True
                    print("session open", flush=True)
            if got:
                print("session closed", flush=True)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 7432))
        s.listen(16)
        while True:
            threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
        """;

    [Fact]
    public async Task A_node_that_loses_the_vip_ends_the_sessions_that_came_through_it()
    {
        await using var lab = await VipLab.CreateAsync();
        await using var server = lab.Topology.Start("lb1", "holding-server", "/usr/bin/python3", ["-c", HoldingServer]);
        var a = lab.StartOurs("lb1", VipLab.Ours(3, 100) with { Extra = Proxy(BackendPort) });
        BalancerProcess? b = null;
        await VipLab.WithLogsAsync(() => $"--- lb1 ---\n{a.LogTail()}\n--- lb2 ---\n{b?.LogTail()}\n--- server ---\n{server.LogTail()}", async () =>
        {
            await Wait.UntilAsync("lb1 holds the VIP", () => lab.HoldsVipAsync("lb1"), Deadline);
            await Wait.UntilAsync("lb1's /proxy says it sees a primary",
                async () => (await a.GetAsync("/proxy"))?.Contains("\"sees_primary\":true", StringComparison.Ordinal) == true, Deadline);

            // A client's session through the VIP: a startup message the proxy passes on to the server.
            using var client = NetnsSocket.Create(lab.Topology.NamespaceOf("client"));
            await client.ConnectAsync(VipLab.VipEndpoint.Address, 5000);
            await client.SendAsync(StartupMessage("app"));
            await Wait.UntilAsync("the server holds the proxied session", () => server.LogTail().Contains("session open", StringComparison.Ordinal), Deadline);

            // lb2 with a higher priority preempts: lb1 goes back to BACKUP with the session still open.
            b = lab.StartOurs("lb2", VipLab.Ours(3, 150) with { Extra = Proxy(8009) });
            await Wait.UntilAsync("lb2 holds the VIP", async () => await lab.HoldsVipAsync("lb2") && !await lab.HoldsVipAsync("lb1"), Deadline);
            await Wait.UntilAsync("lb1 ended the session on the server's side",
                () => server.LogTail().Contains("session closed", StringComparison.Ordinal), Deadline);
            Assert.Contains("ended 1 session(s): VI_1 left MASTER", a.LogTail(), StringComparison.Ordinal);
        });
    }

    /// <summary>A protocol 3.0 StartupMessage for <paramref name="user"/>.</summary>
    static byte[] StartupMessage(string user)
    {
        var body = System.Text.Encoding.ASCII.GetBytes($"user\0{user}\0\0");
        var m = new byte[8 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(m, m.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(4), 196608);
        body.CopyTo(m, 8);
        return m;
    }
}
