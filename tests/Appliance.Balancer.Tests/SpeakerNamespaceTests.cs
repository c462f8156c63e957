using System.Globalization;
using Appliance.Lab.Balancer;
using Appliance.Lab.Netns;
using Appliance.TestKit;

namespace Appliance.Balancer.Tests;

/// <summary>
/// Two published balancers (lb1, lb2) and a client in the Lab harness's topology, written like an
/// operator's runbook with generous deadlines. Needs root.
/// </summary>
[Collection("netns")]
public sealed class SpeakerNamespaceTests
{
    static readonly TimeSpan Deadline = VipLab.Deadline;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task One_master_holds_the_vip_and_hands_it_over_on_kill_and_on_clean_stop(int version)
    {
        await using var lab = await VipLab.CreateAsync();
        var capture = await lab.Topology.StartCaptureAsync("vrrp", "vrrp");
        var a = lab.StartOurs("lb1", VipLab.Ours(version, 100));
        var b = lab.StartOurs("lb2", VipLab.Ours(version, 90));
        BalancerProcess? secondA = null;
        string Logs() => $"--- lb1 ---\n{a.LogTail()}\n{secondA?.LogTail()}\n--- lb2 ---\n{b.LogTail()}";

        await VipLab.WithLogsAsync(Logs, async () =>
        {
            // lb1 (priority 100) is master and holds the VIP, lb2 (90) does not; the client reaches lb1.
            await Wait.UntilAsync("lb1 holds the VIP and lb2 does not", async () => await lab.HoldsVipAsync("lb1") && !await lab.HoldsVipAsync("lb2"), Deadline);
            await lab.UntilClientReachesAsync("lb1");
            await lab.NeverBothHoldAsync();

            // SIGKILL of the master: no goodbye; lb2 takes over after the master-down interval and the client follows.
            await a.KillAsync();
            await Wait.UntilAsync("lb2 holds the VIP after lb1 was killed", () => lab.HoldsVipAsync("lb2"), Deadline);
            await lab.UntilClientReachesAsync("lb2");

            // lb1 comes back: it removes the VIP its killed predecessor left, then preempts lb2.
            secondA = lab.StartOurs("lb1", VipLab.Ours(version, 100), "balancer-lb1-again");
            await Wait.UntilAsync("the restarted lb1 holds the VIP and lb2 gave it up", async () => await lab.HoldsVipAsync("lb1") && !await lab.HoldsVipAsync("lb2"), Deadline);
            await lab.UntilClientReachesAsync("lb1");

            // A clean stop: priority-0 goodbye, lb1's VIP removed, lb2 takes over and the client follows.
            Assert.True(await secondA.TerminateAsync(Deadline), "lb1 did not exit after SIGTERM");
            Assert.Equal(0, secondA.ExitCode);
            Assert.False(await lab.HoldsVipAsync("lb1"), "lb1 still holds the VIP after a clean stop");
            await Wait.UntilAsync("lb2 holds the VIP after lb1's clean stop", () => lab.HoldsVipAsync("lb2"), Deadline);
            await lab.UntilClientReachesAsync("lb2");
            await AssertSkewTakeoverAsync(capture.PcapPath, version);

            Assert.True(await b.TerminateAsync(Deadline), "lb2 did not exit after SIGTERM");
            Assert.Equal(0, b.ExitCode);
            Assert.False(await lab.HoldsVipAsync("lb2"), "lb2 still holds the VIP after a clean stop");
        });
    }

    /// <summary>
    /// The order of events on the wire after the clean stop: lb1's priority-0 advert is its last, and
    /// lb2's first advert as master follows before lb2's master-down timer could have fired (that timer
    /// runs at least 2 intervals + skew from the goodbye, since lb1's last regular advert came at most
    /// one interval before it): the takeover came from the skew timer the goodbye set.
    /// </summary>
    static async Task AssertSkewTakeoverAsync(string pcap, int version)
    {
        IReadOnlyList<string> frames = [];
        await Wait.UntilAsync("lb1's priority-0 advert and then lb2's adverts are captured", async () =>
        {
            frames = await PacketCapture.ReadAsync(pcap, "vrrp");
            var bye = LastIndex(frames, f => f.Contains("10.231.0.11 > 224.0.0.18", StringComparison.Ordinal) && f.Contains("prio 0,", StringComparison.Ordinal));
            return bye >= 0 && frames.Skip(bye + 1).Any(f => f.Contains("10.231.0.12 > 224.0.0.18", StringComparison.Ordinal));
        }, Deadline);
        var goodbye = LastIndex(frames, f => f.Contains("10.231.0.11 > 224.0.0.18", StringComparison.Ordinal) && f.Contains("prio 0,", StringComparison.Ordinal));
        var after = frames.Skip(goodbye + 1).ToList();
        Assert.DoesNotContain(after, f => f.Contains("10.231.0.11 >", StringComparison.Ordinal));
        var first = after.First(f => f.Contains("10.231.0.12 > 224.0.0.18", StringComparison.Ordinal));
        Assert.Contains("prio 90,", first, StringComparison.Ordinal);
        var interval = version == 3 ? 0.1 : 1.0;
        var skew = (256 - 90) / 256.0 * interval;
        var gap = Time(first) - Time(frames[goodbye]);
        Assert.True(gap < 2 * interval + skew, $"lb2's first advert came {gap:0.000} s after the goodbye: its master-down timer, not the skew timer, made it master\n{string.Join('\n', frames.TakeLast(10))}");
    }

    static int LastIndex(IReadOnlyList<string> frames, Func<string, bool> match)
    {
        for (var i = frames.Count - 1; i >= 0; i--) if (match(frames[i])) return i;
        return -1;
    }

    static double Time(string frame) => double.Parse(frame.Split(' ')[0], CultureInfo.InvariantCulture);

    [Fact]
    public async Task Wrong_password_adverts_are_counted_and_ignored()
    {
        await using var lab = await VipLab.CreateAsync();
        var a = lab.StartOurs("lb1", VipLab.Ours(2, 100) with { AuthPass = "right" });
        var b = lab.StartOurs("lb2", VipLab.Ours(2, 90) with { AuthPass = "wrong" });
        await VipLab.WithLogsAsync(() => $"--- lb1 ---\n{a.LogTail()}\n--- lb2 ---\n{b.LogTail()}", async () =>
        {
            // Neither hears the other: both become master (a misconfiguration keepalived shows the same way),
            // and each counts the other's adverts as AuthMismatch drops in /metrics.
            await Wait.UntilAsync("lb2 counts lb1's adverts as AuthMismatch drops and holds the VIP anyway", async () =>
                await b.DropsAsync("AuthMismatch") >= 2 && await lab.HoldsVipAsync("lb2"), Deadline);
            Assert.True(await a.DropsAsync("AuthMismatch") >= 1, "lb1 counted no AuthMismatch drop");
        });
    }

    [Fact]
    public async Task A_failing_track_script_hands_the_vip_over()
    {
        await using var lab = await VipLab.CreateAsync();
        var healthy = lab.Topology.FilePath("proxy-healthy");
        File.WriteAllText(healthy, "");
        // The seed's chk_haproxy: weight -30 takes a priority-100 master below a priority-90 backup.
        var track = $"""
            [[vrrp.track_script]]
            name = "chk_proxy"
            script = "/usr/bin/test -e {healthy}"
            interval = 1
            timeout = 1
            weight = -30
            """;
        var a = lab.StartOurs("lb1", VipLab.Ours(3, 100) with { Extra = track });
        var b = lab.StartOurs("lb2", VipLab.Ours(3, 90));
        await VipLab.WithLogsAsync(() => $"--- lb1 ---\n{a.LogTail()}\n--- lb2 ---\n{b.LogTail()}", async () =>
        {
            await Wait.UntilAsync("lb1 (check passing) holds the VIP and lb2 does not",
                async () => await lab.HoldsVipAsync("lb1") && !await lab.HoldsVipAsync("lb2"), Deadline);
            await lab.UntilClientReachesAsync("lb1");
            File.Delete(healthy);
            await Wait.UntilAsync("lb2 holds the VIP and lb1 gave it up after lb1's check failed",
                async () => await lab.HoldsVipAsync("lb2") && !await lab.HoldsVipAsync("lb1"), Deadline);
            await lab.UntilClientReachesAsync("lb2");
        });
    }

    [Fact]
    public async Task Unicast_peers_work_with_multicast_blocked()
    {
        await using var lab = await VipLab.CreateAsync();
        // Inside the balancers' namespaces only: every IPv4 multicast packet dropped on the way in and out.
        await lab.Topology.BlockMulticastAsync("lb1");
        await lab.Topology.BlockMulticastAsync("lb2");
        var a = lab.StartOurs("lb1", VipLab.Ours(3, 100) with { UnicastPeers = [SeedTopology.Lb2.Address] });
        var b = lab.StartOurs("lb2", VipLab.Ours(3, 90) with { UnicastPeers = [SeedTopology.Lb1.Address] });
        await VipLab.WithLogsAsync(() => $"--- lb1 ---\n{a.LogTail()}\n--- lb2 ---\n{b.LogTail()}", async () =>
        {
            await Wait.UntilAsync("lb1 holds the VIP and lb2 does not", async () => await lab.HoldsVipAsync("lb1") && !await lab.HoldsVipAsync("lb2"), Deadline);
            await lab.NeverBothHoldAsync();
            await a.KillAsync();
            await Wait.UntilAsync("lb2 holds the VIP after lb1 was killed", () => lab.HoldsVipAsync("lb2"), Deadline);
            await lab.UntilClientReachesAsync("lb2");
        });
    }

    [Fact]
    public async Task Gratuitous_arps_are_seen_on_the_wire_when_a_node_becomes_master()
    {
        await using var lab = await VipLab.CreateAsync();
        var capture = await lab.Topology.StartCaptureAsync("arp", "arp");
        var a = lab.StartOurs("lb1", VipLab.Ours(3, 100));
        await VipLab.WithLogsAsync(() => a.LogTail(), async () =>
        {
            // The first burst is 5 frames (garp_master_repeat), in keepalived's form: from lb1's MAC to
            // broadcast, "who-has VIP (ff:ff:ff:ff:ff:ff) tell VIP".
            IReadOnlyList<string> frames = [];
            await Wait.UntilAsync("5 ARP frames captured", async () => (frames = await PacketCapture.ReadAsync(capture.PcapPath)).Count >= 5, Deadline);
            Assert.All(frames.Take(5), f =>
            {
                Assert.Contains($"{SeedTopology.Lb1.MacText} > ff:ff:ff:ff:ff:ff", f, StringComparison.Ordinal);
                Assert.Contains($"Request who-has {SeedTopology.Vip} (ff:ff:ff:ff:ff:ff) tell {SeedTopology.Vip}", f, StringComparison.Ordinal);
            });
        });
    }

    [Fact]
    public async Task Link_down_on_the_instance_interface_is_a_fault_that_gives_up_the_vip()
    {
        await using var lab = await VipLab.CreateAsync();
        var a = lab.StartOurs("lb1", VipLab.Ours(3, 100));
        await VipLab.WithLogsAsync(() => a.LogTail(), async () =>
        {
            await Wait.UntilAsync("lb1 holds the VIP", () => lab.HoldsVipAsync("lb1"), Deadline);
            (await lab.Topology.ExecAsync("lb1", "ip", "link", "set", NodeSpec.Interface, "down")).Check();
            await Wait.UntilAsync("lb1 is in FAULT and gave up the VIP", async () =>
                (await a.GetAsync("/status") ?? "").Contains("\"state\":\"FAULT\"", StringComparison.Ordinal) && !await lab.HoldsVipAsync("lb1"), Deadline);
            (await lab.Topology.ExecAsync("lb1", "ip", "link", "set", NodeSpec.Interface, "up")).Check();
            await Wait.UntilAsync("lb1 is master again with the VIP", () => lab.HoldsVipAsync("lb1"), Deadline);
        });
    }
}
