using System.Net;
using Appliance.Lab.Keepalived;
using Appliance.Lab.Netns;
using Appliance.TestKit;

namespace Appliance.Netns.Tests;

/// <summary>
/// The real keepalived in the seed's topology (lb1 priority 100, lb2 priority 90, a client): what
/// our VRRP speaker must match, and proof that the harness carries VRRP, the VIP and gratuitous ARP.
/// The deadlines are generous; the takeover times themselves are the benchmark's business.
/// </summary>
public sealed class KeepalivedBaselineTests
{
    const int Port = 7000;
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    static readonly IPEndPoint VipEndpoint = new(SeedTopology.Vip, Port);

    static KeepalivedInstance V2(int priority, int vrid = 51) => new()
    {
        Interface = NodeSpec.Interface, VirtualRouterId = vrid, Priority = priority, Vip = SeedTopology.Vip,
        Version = 2, AdvertInterval = TimeSpan.FromSeconds(1), AuthPass = "spk1234",
    };

    static KeepalivedInstance V3(int priority) => new()
    {
        Interface = NodeSpec.Interface, VirtualRouterId = 52, Priority = priority, Vip = SeedTopology.Vip,
        Version = 3, AdvertInterval = TimeSpan.FromSeconds(0.1),
    };

    /// <summary>The topology, a name server on both balancers, a capture of VRRP and ARP, and keepalived on both.</summary>
    sealed class Lab : IAsyncDisposable
    {
        public required NetnsTopology Topology { get; init; }
        public required PacketCapture Capture { get; init; }
        public required KeepalivedProcess Lb1 { get; init; }
        public required KeepalivedProcess Lb2 { get; init; }
        public required NodeNameServer[] Servers { get; init; }

        public static async Task<Lab> StartAsync(KeepalivedInstance lb1, KeepalivedInstance lb2, bool blockMulticast = false)
        {
            var t = await NetnsTopology.CreateAsync(SeedTopology.Nodes);
            try
            {
                if (blockMulticast)
                {
                    await t.BlockMulticastAsync("lb1");
                    await t.BlockMulticastAsync("lb2");
                }
                NodeNameServer[] servers = [NodeNameServer.Start(t.NamespaceOf("lb1"), "lb1", Port), NodeNameServer.Start(t.NamespaceOf("lb2"), "lb2", Port)];
                var capture = await t.StartCaptureAsync("vrrp", "vrrp or arp");
                return new Lab
                {
                    Topology = t, Capture = capture, Servers = servers,
                    Lb1 = KeepalivedProcess.Start(t, "lb1", lb1), Lb2 = KeepalivedProcess.Start(t, "lb2", lb2),
                };
            }
            catch
            {
                await t.DisposeAsync();
                throw;
            }
        }

        public Task<string?> WhoHoldsTheVipAsync() => NodeNameProbe.AskAsync(Topology.NamespaceOf("client"), VipEndpoint, TimeSpan.FromSeconds(1));

        public Task UntilClientReachesAsync(string node) => Wait.UntilAsync($"the client reaches the VIP through {node}",
            async () => await WhoHoldsTheVipAsync() == node, Deadline);

        public async Task<bool> HoldsVipAsync(string node) => (await Topology.AddressesAsync(node)).Contains($"{SeedTopology.Vip}/24");

        public Task UntilStateAsync(KeepalivedProcess k, string state) => Wait.UntilAsync($"keepalived on {k.Node} is {state}",
            () => k.State == state, Deadline);

        /// <summary>Waits until the capture holds at least <paramref name="count"/> frames matching <paramref name="filter"/>, and returns them.</summary>
        public async Task<IReadOnlyList<string>> UntilCapturedAsync(string filter, Func<string, bool> match, int count)
        {
            IReadOnlyList<string> frames = [];
            await Wait.UntilAsync($"{count} frame(s) matching '{filter}' captured",
                async () => (frames = (await PacketCapture.ReadAsync(Capture.PcapPath, filter)).Where(match).ToList()).Count >= count, Deadline);
            return frames;
        }

        public string Logs() => $"lb1:\n{Lb1.LogTail()}\nlb2:\n{Lb2.LogTail()}";

        public async ValueTask DisposeAsync()
        {
            foreach (var s in Servers) await s.DisposeAsync();
            await Lb1.DisposeAsync();
            await Lb2.DisposeAsync();
            await Capture.DisposeAsync();
            await Topology.DisposeAsync();
        }
    }

    static bool IsGarpFrom(string frame, string mac) =>
        frame.StartsWith(frame.Split(' ')[0] + " " + mac + " > ff:ff:ff:ff:ff:ff", StringComparison.Ordinal)
        && frame.Contains($"Request who-has {SeedTopology.Vip} (ff:ff:ff:ff:ff:ff) tell {SeedTopology.Vip}", StringComparison.Ordinal);

    [Fact]
    public async Task V2_the_master_holds_the_vip_and_after_its_crash_the_backup_takes_it_with_gratuitous_arps()
    {
        await using var lab = await Lab.StartAsync(V2(100), V2(90));
        await lab.UntilStateAsync(lab.Lb1, "MASTER");
        await lab.UntilStateAsync(lab.Lb2, "BACKUP");
        await lab.UntilClientReachesAsync("lb1");
        Assert.True(await lab.HoldsVipAsync("lb1"), lab.Logs());
        Assert.False(await lab.HoldsVipAsync("lb2"), lab.Logs());
        // lb1's adverts are on the wire: VRRPv2, priority 100, PASS ("simple") authentication.
        await lab.UntilCapturedAsync("vrrp", f => f.Contains("10.231.0.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 100, authtype simple", StringComparison.Ordinal), 2);

        await lab.Lb1.KillAsync();

        await lab.UntilClientReachesAsync("lb2");
        await lab.UntilStateAsync(lab.Lb2, "MASTER");
        // A crashed daemon leaves its VIP behind (FACTS.md): only the gratuitous ARPs moved the client.
        Assert.True(await lab.HoldsVipAsync("lb1"));
        var garps = await lab.UntilCapturedAsync("arp", f => IsGarpFrom(f, "02:00:00:00:00:0b"), 5);
        Assert.True(garps.Count >= 5, string.Join('\n', garps));
    }

    [Fact]
    public async Task V3_a_clean_stop_sends_priority_zero_and_removes_the_vip_and_the_backup_takes_over()
    {
        await using var lab = await Lab.StartAsync(V3(100), V3(90));
        await lab.UntilStateAsync(lab.Lb1, "MASTER");
        await lab.UntilClientReachesAsync("lb1");
        await lab.UntilCapturedAsync("vrrp", f => f.Contains("VRRPv3, Advertisement, vrid 52, prio 100", StringComparison.Ordinal), 3);

        Assert.True(await lab.Lb1.TerminateAsync(Deadline), lab.Logs());

        await lab.UntilClientReachesAsync("lb2");
        Assert.False(await lab.HoldsVipAsync("lb1"));
        Assert.True(await lab.HoldsVipAsync("lb2"));
        await lab.UntilCapturedAsync("vrrp", f => f.Contains("10.231.0.11 > 224.0.0.18: VRRPv3, Advertisement, vrid 52, prio 0", StringComparison.Ordinal), 1);
        await lab.UntilCapturedAsync("arp", f => IsGarpFrom(f, "02:00:00:00:00:0b"), 5);
    }

    [Fact]
    public async Task Unicast_peers_elect_and_take_over_with_multicast_blocked()
    {
        KeepalivedInstance Unicast(KeepalivedInstance i, NodeSpec self, NodeSpec peer) => i with { Unicast = (self.Address, [peer.Address]) };
        await using var lab = await Lab.StartAsync(
            Unicast(V2(100), SeedTopology.Lb1, SeedTopology.Lb2), Unicast(V2(90), SeedTopology.Lb2, SeedTopology.Lb1), blockMulticast: true);
        await lab.UntilStateAsync(lab.Lb1, "MASTER");
        await lab.UntilStateAsync(lab.Lb2, "BACKUP");
        await lab.UntilClientReachesAsync("lb1");
        await lab.UntilCapturedAsync("vrrp", f => f.Contains("10.231.0.11 > 10.231.0.12: VRRPv2, Advertisement, vrid 51, prio 100", StringComparison.Ordinal), 2);

        await lab.Lb1.KillAsync();

        await lab.UntilClientReachesAsync("lb2");
        var multicast = (await PacketCapture.ReadAsync(lab.Capture.PcapPath, "vrrp")).Where(f => f.Contains("224.0.0.18", StringComparison.Ordinal));
        Assert.Empty(multicast);
    }
}
