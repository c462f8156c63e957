using System.Net;
using Appliance.Lab.Netns;

namespace Appliance.Lab.NetLab;

/// <summary>
/// The seed's topology on a private bridge: three database nodes (etcd member, PostgreSQL 15 and the
/// stack's PostgreSQL manager), two balancer nodes sharing a VIP, and a client. The addresses and
/// ports are the ones of ../shared/compat (the reference captures), so a configuration or a capture
/// from the reference stack reads the same here. They exist only inside the lab's namespaces.
/// </summary>
public static class LabLayout
{
    public static readonly NodeSpec Db1 = NodeSpec.Of("db1", "10.231.0.11", "02:00:00:00:01:01");
    public static readonly NodeSpec Db2 = NodeSpec.Of("db2", "10.231.0.12", "02:00:00:00:01:02");
    public static readonly NodeSpec Db3 = NodeSpec.Of("db3", "10.231.0.13", "02:00:00:00:01:03");
    public static readonly NodeSpec Lb1 = NodeSpec.Of("lb1", "10.231.0.21", "02:00:00:00:02:01");
    public static readonly NodeSpec Lb2 = NodeSpec.Of("lb2", "10.231.0.22", "02:00:00:00:02:02");
    public static readonly NodeSpec Client = NodeSpec.Of("client", "10.231.0.30", "02:00:00:00:03:01");

    public static IReadOnlyList<NodeSpec> Databases { get; } = [Db1, Db2, Db3];
    public static IReadOnlyList<NodeSpec> Balancers { get; } = [Lb1, Lb2];
    public static IReadOnlyList<NodeSpec> All { get; } = [Db1, Db2, Db3, Lb1, Lb2, Client];

    /// <summary>The virtual IP the balancers hold by VRRP (/24 on their eth0).</summary>
    public static readonly IPAddress Vip = IPAddress.Parse("10.231.0.140");
    public const int VipPrefixLength = 24;
    public const string Subnet = "10.231.0.0/24";
    public const int VirtualRouterId = 51;

    public const int PostgresPort = 5432;
    public const int RestApiPort = 8008;
    public const int EtcdClientPort = 2379;
    public const int EtcdPeerPort = 2380;
    /// <summary>The read-write listener on the VIP (HAProxy's "primary" in the seed).</summary>
    public const int PrimaryPort = 5000;
    /// <summary>The read-only listener on the VIP (HAProxy's "replicas").</summary>
    public const int ReplicaPort = 5001;
    /// <summary>Where a balancer node serves its status and metrics (appliance-balancer's listen, HAProxy's stats page).</summary>
    public const int BalancerStatusPort = 8009;

    /// <summary>The etcd client URLs of the database nodes, as every member of either stack is configured.</summary>
    public static IReadOnlyList<string> EtcdEndpoints { get; } = Databases.Select(d => $"http://{d.Address}:{EtcdClientPort}").ToList();

    public static bool IsDatabase(string node) => Databases.Any(d => d.Name == node);
    public static bool IsBalancer(string node) => Balancers.Any(b => b.Name == node);
}
