using System.Net;
using Appliance.Lab.Netns;
using Appliance.Lab;
using Appliance.TestKit;

namespace Appliance.Netns.Tests;

/// <summary>The harness itself: what it creates, that it removes all of it, and that nodes talk only through its bridge.</summary>
public sealed class TopologyTests
{
    static Task<HashSet<string>> NamespacesAsync()
        => Task.FromResult<HashSet<string>>([.. Directory.Exists("/run/netns") ? Directory.GetFiles("/run/netns").Select(Path.GetFileName).OfType<string>() : []]);

    /// <summary>The host namespace's links, addresses and routes: the harness must never change them.</summary>
    static async Task<string> HostLinksAsync()
        => (await Command.RunAsync("ip", ["-o", "link", "show"])).Check().Output
            + (await Command.RunAsync("ip", ["-o", "addr", "show"])).Check().Output
            + (await Command.RunAsync("ip", ["route", "show", "table", "all"])).Check().Output;

    [Fact]
    public async Task Creates_a_namespace_per_node_and_a_switch_and_removes_them_all()
    {
        var hostLinksBefore = await HostLinksAsync();
        string workDir;
        string[] ours;
        await using (var t = await NetnsTopology.CreateAsync(SeedTopology.Nodes))
        {
            workDir = t.WorkDir;
            ours = [t.SwitchNamespace, .. t.Nodes.Select(n => t.NamespaceOf(n.Name))];
            Assert.Subset(await NamespacesAsync(), ours.ToHashSet());
            Assert.Equal(["10.231.0.11/24"], await t.AddressesAsync("lb1"));
            var link = (await t.ExecAsync("lb2", "ip", "-o", "link", "show", "dev", "eth0")).Check().Output;
            Assert.Contains("02:00:00:00:00:0b", link, StringComparison.Ordinal);
            Assert.Contains("state UP", link, StringComparison.Ordinal);
            Assert.Contains("state UNKNOWN", (await t.ExecAsync("client", "ip", "-o", "link", "show", "dev", "lo")).Check().Output, StringComparison.Ordinal);
            // The bridge holds one port per node, in the switch namespace only.
            var ports = (await Command.RunAsync("ip", ["-n", t.SwitchNamespace, "-o", "link", "show", "master", NetnsTopology.Bridge])).Check().Output;
            Assert.Equal(3, ports.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
            // Nothing of it on the host: its links, addresses and routes are unchanged.
            Assert.Equal(hostLinksBefore, await HostLinksAsync());
            t.Start("lb1", "sleeper", "sleep", ["600"]);
        }
        Assert.Empty((await NamespacesAsync()).Intersect(ours));
        Assert.False(Directory.Exists(workDir));
        Assert.Equal(hostLinksBefore, await HostLinksAsync());
    }

    [Fact]
    public async Task Nodes_ping_each_other_and_the_capture_on_the_bridge_sees_it()
    {
        await using var t = await NetnsTopology.CreateAsync(SeedTopology.Nodes);
        await using var capture = await t.StartCaptureAsync("ping", "icmp");
        var ping = await t.ExecAsync("client", "ping", "-c", "3", "-i", "0.2", "-W", "5", "10.231.0.12");
        Assert.True(ping.Ok, ping.Output + ping.Errors);
        var pcap = await capture.StopAsync();
        var frames = await PacketCapture.ReadAsync(pcap);
        // Unicast between two ports, seen on the bridge in both directions.
        Assert.Contains(frames, f => f.Contains("02:00:00:00:00:0c > 02:00:00:00:00:0b", StringComparison.Ordinal) && f.Contains("echo request", StringComparison.Ordinal));
        Assert.Contains(frames, f => f.Contains("02:00:00:00:00:0b > 02:00:00:00:00:0c", StringComparison.Ordinal) && f.Contains("echo reply", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_pulled_cable_cuts_the_node_off_until_it_is_plugged_back()
    {
        await using var t = await NetnsTopology.CreateAsync(SeedTopology.Nodes);
        await using var server = NodeNameServer.Start(t.NamespaceOf("lb1"), "lb1", 7000);
        var lb1 = new IPEndPoint(SeedTopology.Lb1.Address, 7000);
        Assert.Equal("lb1", await NodeNameProbe.AskAsync(t.NamespaceOf("client"), lb1, TimeSpan.FromSeconds(10)));
        await t.SetLinkAsync("lb1", up: false);
        Assert.Contains("NO-CARRIER", (await t.ExecAsync("lb1", "ip", "-o", "link", "show", "dev", "eth0")).Check().Output, StringComparison.Ordinal);
        Assert.Null(await NodeNameProbe.AskAsync(t.NamespaceOf("client"), lb1, TimeSpan.FromSeconds(1)));
        await t.SetLinkAsync("lb1", up: true);
        await Wait.UntilAsync("the client reaches lb1 again",
            async () => await NodeNameProbe.AskAsync(t.NamespaceOf("client"), lb1, TimeSpan.FromSeconds(1)) == "lb1", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Blocking_multicast_drops_multicast_and_keeps_unicast()
    {
        await using var t = await NetnsTopology.CreateAsync(SeedTopology.Nodes);
        await t.BlockMulticastAsync("lb2");
        await using var capture = await t.StartCaptureAsync("mcast", "icmp");
        // A multicast ping from lb2 never reaches the bridge; a unicast one does.
        await t.ExecAsync("lb2", "ping", "-c", "2", "-i", "0.2", "-W", "1", "-I", "eth0", "224.0.0.18");
        Assert.True((await t.ExecAsync("lb2", "ping", "-c", "1", "-W", "5", "10.231.0.20")).Ok);
        var frames = await PacketCapture.ReadAsync(await capture.StopAsync());
        Assert.DoesNotContain(frames, f => f.Contains("224.0.0.18", StringComparison.Ordinal));
        Assert.Contains(frames, f => f.Contains("10.231.0.12 > 10.231.0.20", StringComparison.Ordinal));
        await t.UnblockMulticastAsync("lb2");
    }

    [Fact]
    public async Task A_process_started_in_a_node_runs_in_its_namespace_and_dies_with_the_topology()
    {
        var t = await NetnsTopology.CreateAsync(SeedTopology.Nodes);
        ChildProcess p;
        try
        {
            p = t.Start("client", "sleeper", "sleep", ["600"]);
            var ns = t.NamespaceOf("client");
            await Wait.UntilAsync("the sleeper is listed in the client's namespace",
                async () => (await Command.RunAsync("ip", ["netns", "pids", ns])).Output.Split('\n').Contains(p.Pid.ToString()), TimeSpan.FromSeconds(20));
        }
        finally
        {
            await t.DisposeAsync();
        }
        Assert.True(p.HasExited);
    }
}
