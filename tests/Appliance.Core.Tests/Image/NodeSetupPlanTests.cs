using Appliance.Configuration;
using Appliance.Core.Tests.Configuration;
using Appliance.Image;

namespace Appliance.Core.Tests.Image;

/// <summary>What the image writes at boot for a node's configuration.</summary>
public sealed class NodeSetupPlanTests
{
    static NodeSetupPlan Plan(params string[] texts)
    {
        var result = ConfigLoader.LoadFromText(texts.Select((t, i) => ($"{i}.toml", t)), ConfigRole.Node);
        Assert.True(result.IsValid, result.ToString());
        return NodeSetupPlan.For(result.Config!);
    }

    static string File(NodeSetupPlan plan, string path) => Assert.Single(plan.Files, f => f.Path == path).Content;

    [Fact]
    public void A_database_node_gets_its_host_name_network_time_and_etcd_member()
    {
        var plan = Plan(ConfigSystemTests.Cluster, ConfigSystemTests.DatabaseNode);

        Assert.Equal("db1", plan.Hostname);
        Assert.Equal(["database"], plan.Roles);
        Assert.Equal("db1\n", File(plan, "etc/hostname"));
        Assert.Equal("database\n", File(plan, NodeSetupPlan.RolesFile));
        Assert.Equal("52:54:00:aa:00:11 lan0\n", File(plan, NodeSetupPlan.InterfacesFile));
        var network = File(plan, "run/systemd/network/10-appliance-lan0.network");
        Assert.Contains("[Match]\nName=lan0\n", network, StringComparison.Ordinal);
        Assert.Contains("Address=10.0.0.11/24\nGateway=10.0.0.1\nDNS=10.0.0.1\n", network, StringComparison.Ordinal);
        // The balancer's VIP is not networkd's: it must not remove it.
        Assert.Contains("KeepConfiguration=yes", network, StringComparison.Ordinal);
        Assert.Equal("[Time]\nNTP=ntp.example\n", File(plan, "run/systemd/timesyncd.conf.d/50-appliance.conf"));

        var etcd = File(plan, NodeSetupPlan.EtcdEnvironmentFile).Split('\n');
        Assert.Contains("ETCD_NAME=db1", etcd);
        Assert.Contains("ETCD_DATA_DIR=/var/lib/appliance/etcd", etcd);
        Assert.Contains("ETCD_LISTEN_PEER_URLS=http://10.0.0.11:2380", etcd);
        Assert.Contains("ETCD_LISTEN_CLIENT_URLS=http://10.0.0.11:2379,http://127.0.0.1:2379", etcd);
        Assert.Contains("ETCD_INITIAL_CLUSTER=db1=http://10.0.0.11:2380,db2=http://10.0.0.12:2380", etcd);
        Assert.Contains("ETCD_INITIAL_CLUSTER_TOKEN=prod", etcd);
    }

    [Fact]
    public void A_balancer_node_runs_no_etcd_and_an_interface_without_addresses_asks_dhcp()
    {
        var plan = Plan("""
            [node]
            name = "lb1"
            [system]
            roles = ["balancer", "balancer"]
            hostname = "lb1.example"
            [[system.interface]]
            name = "lan0"
            mac = "52:54:00:aa:00:21"
            [[proxy.listener]]
            name = "rw"
            bind = "10.0.0.140:5000"
            role = "primary"
            """);

        Assert.Equal("lb1.example", plan.Hostname);
        Assert.Equal(["balancer"], plan.Roles);
        Assert.DoesNotContain(plan.Files, f => f.Path == NodeSetupPlan.EtcdEnvironmentFile);
        Assert.Contains("DHCP=ipv4\n", File(plan, "run/systemd/network/10-appliance-lan0.network"), StringComparison.Ordinal);
    }
}
