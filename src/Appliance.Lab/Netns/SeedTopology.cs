using System.Net;

namespace Appliance.Lab.Netns;

/// <summary>
/// The load-balancer part of the seed's lab, with the addresses of the golden VRRP captures
/// (../shared/vectors/README.txt): lb1 and lb2 share a VIP, a client reaches it through the bridge.
/// </summary>
public static class SeedTopology
{
    public static readonly NodeSpec Lb1 = NodeSpec.Of("lb1", "10.231.0.11", "02:00:00:00:00:0a");
    public static readonly NodeSpec Lb2 = NodeSpec.Of("lb2", "10.231.0.12", "02:00:00:00:00:0b");
    public static readonly NodeSpec Client = NodeSpec.Of("client", "10.231.0.20", "02:00:00:00:00:0c");

    /// <summary>The virtual IP the balancers hold (/24, on their <see cref="NodeSpec.Interface"/>).</summary>
    public static readonly IPAddress Vip = IPAddress.Parse("10.231.0.140");

    public static IReadOnlyList<NodeSpec> Nodes => [Lb1, Lb2, Client];
}
