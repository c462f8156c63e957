using System.Net;
using Appliance.Lab.Balancer;
using Appliance.Lab.Keepalived;
using Appliance.Lab.Netns;
using Appliance.TestKit;

namespace Appliance.Balancer.Tests;

/// <summary>
/// The seed's load-balancer topology from the Lab harness (lb1, lb2 and a client on a bridge, in
/// namespaces this test creates; 10.231.0.0/24 exists only inside them), with a name server on
/// both balancers so the client learns who answers on the VIP. Dispose removes the processes,
/// namespaces and files even after a failure. Needs root.
/// </summary>
public sealed class VipLab : IAsyncDisposable
{
    public const int Port = 7000;
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    public static readonly IPEndPoint VipEndpoint = new(SeedTopology.Vip, Port);
    public static string VipCidr => $"{SeedTopology.Vip}/24";

    readonly NodeNameServer[] _servers;
    public NetnsTopology Topology { get; }

    VipLab(NetnsTopology topology, NodeNameServer[] servers)
    {
        Topology = topology;
        _servers = servers;
    }

    public static async Task<VipLab> CreateAsync()
    {
        Assert.True(Environment.UserName == "root", "needs root: network namespaces, raw sockets, rtnetlink");
        var t = await NetnsTopology.CreateAsync(SeedTopology.Nodes);
        try
        {
            return new VipLab(t, [NodeNameServer.Start(t.NamespaceOf("lb1"), "lb1", Port), NodeNameServer.Start(t.NamespaceOf("lb2"), "lb2", Port)]);
        }
        catch
        {
            await t.DisposeAsync();
            throw;
        }
    }

    /// <summary>Our instance on the lab's interface holding the seed VIP (v3 at 0.1 s, v2 at 1 s with PASS).</summary>
    public static BalancerInstance Ours(int version, int priority, int vrid = 51) => new()
    {
        Interface = NodeSpec.Interface, VirtualRouterId = vrid, Priority = priority, Vip = SeedTopology.Vip, Version = version,
        AdvertInterval = TimeSpan.FromSeconds(version == 3 ? 0.1 : 1), AuthPass = version == 2 ? "spk1234" : null, GarpMasterDelay = 1,
    };

    /// <summary>keepalived with the same virtual router as <see cref="Ours"/>.</summary>
    public static KeepalivedInstance Theirs(int version, int priority, int vrid = 51) => new()
    {
        Interface = NodeSpec.Interface, VirtualRouterId = vrid, Priority = priority, Vip = SeedTopology.Vip, Version = version,
        AdvertInterval = TimeSpan.FromSeconds(version == 3 ? 0.1 : 1), AuthPass = version == 2 ? "spk1234" : null, GarpMasterDelay = 1,
    };

    public BalancerProcess StartOurs(string node, BalancerInstance instance, string? name = null) => BalancerProcess.Start(Topology, node, instance, name);

    public KeepalivedProcess StartKeepalived(string node, KeepalivedInstance instance) => KeepalivedProcess.Start(Topology, node, instance);

    /// <summary>The name of the node answering a TCP connection to the VIP from the client; null when none does.</summary>
    public Task<string?> WhoAnswersAsync() => NodeNameProbe.AskAsync(Topology.NamespaceOf("client"), VipEndpoint, TimeSpan.FromSeconds(1));

    public Task UntilClientReachesAsync(string node) => Wait.UntilAsync($"the client reaches the VIP through {node}",
        async () => await WhoAnswersAsync() == node, Deadline);

    /// <summary>Runs <paramref name="body"/>; a failure carries the speakers' logs, which say what happened.</summary>
    public static async Task WithLogsAsync(Func<string> logs, Func<Task> body)
    {
        try { await body(); }
        catch (Exception e) { throw new InvalidOperationException($"{e.Message}\n{logs()}", e); }
    }

    public async Task<bool> HoldsVipAsync(string node) => (await Topology.AddressesAsync(node)).Contains(VipCidr);

    /// <summary>For a second, checks a few times that never both balancers hold the VIP.</summary>
    public async Task NeverBothHoldAsync()
    {
        for (var i = 0; i < 10; i++)
        {
            Assert.False(await HoldsVipAsync("lb1") && await HoldsVipAsync("lb2"), "both nodes hold the VIP while they can hear each other");
            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _servers) await s.DisposeAsync();
        await Topology.DisposeAsync();
    }
}
