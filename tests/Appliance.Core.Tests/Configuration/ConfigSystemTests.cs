using Appliance.Configuration;

namespace Appliance.Core.Tests.Configuration;

/// <summary><c>[system]</c> as the image's boot-time set-up checks it (<see cref="ConfigRole.Node"/>): roles, the keys they need, interfaces, etcd members.</summary>
public sealed class ConfigSystemTests
{
    internal const string Cluster = """
        [cluster]
        scope = "prod"

        [etcd]
        endpoints = ["http://10.0.0.11:2379", "http://10.0.0.12:2379"]
        """;

    internal const string DatabaseNode = """
        [node]
        name = "db1"
        address = "10.0.0.11"

        [postgresql]
        data_dir = "/var/lib/appliance/postgresql/data"

        [system]
        roles = ["database"]
        dns = ["10.0.0.1"]
        ntp = ["ntp.example"]
        etcd_initial_cluster = ["db1=http://10.0.0.11:2380", "db2=http://10.0.0.12:2380"]

        [[system.interface]]
        name = "lan0"
        mac = "52:54:00:AA:00:11"
        addresses = ["10.0.0.11/24"]
        gateway = "10.0.0.1"
        """;

    const string BalancerNode = """
        [node]
        name = "lb1"

        [system]
        roles = ["balancer"]

        [[system.interface]]
        name = "lan0"
        mac = "52:54:00:aa:00:21"

        [[vrrp]]
        name = "VI_1"
        interface = "lan0"
        virtual_router_id = 51
        virtual_ipaddress = ["10.0.0.140/24"]
        """;

    static ConfigResult Node(params string[] texts) =>
        ConfigLoader.LoadFromText(texts.Select((t, i) => ($"{i}.toml", t)), ConfigRole.Node);

    [Fact]
    public void A_cluster_file_and_a_node_file_make_a_valid_database_node()
    {
        var result = Node(Cluster, DatabaseNode);
        Assert.True(result.IsValid, result.ToString());
        var system = result.Config!.System;
        Assert.Equal(["database"], system.Roles);
        Assert.Equal(("lan0", "52:54:00:AA:00:11", "10.0.0.1"), (system.Interface[0].Name, system.Interface[0].Mac, system.Interface[0].Gateway));
    }

    [Fact]
    public void A_balancer_node_needs_no_database_keys()
    {
        var result = Node(BalancerNode);
        Assert.True(result.IsValid, result.ToString());
    }

    [Fact]
    public void The_daemons_ignore_the_section_and_the_node_role_needs_it()
    {
        Assert.True(ConfigLoader.LoadFromText([("a.toml", ConfigText.Minimal)]).IsValid);
        var error = ConfigText.Single(Node("[node]\nname = \"db1\"\n"));
        Assert.Equal(("system.roles", 0), (error.Key, error.Line));
        Assert.Contains("required key missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_role_names_its_line_and_the_roles_there_are()
    {
        var error = ConfigText.Single(Node("[node]\nname = \"db1\"\n[system]\nroles = [\"datbase\"]\n"));
        Assert.Equal(("0.toml", 4, "system.roles"), (error.File, error.Line, error.Key));
        Assert.Contains("expected one of \"database\", \"balancer\", found \"datbase\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_database_role_needs_the_agent_s_keys_and_the_etcd_members()
    {
        var result = Node("[node]\nname = \"db1\"\n[system]\nroles = [\"database\"]\n");
        Assert.False(result.IsValid);
        Assert.Equal(["cluster.scope", "postgresql.data_dir", "system.etcd_initial_cluster"], result.Errors.Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_balancer_role_needs_an_instance_or_a_listener()
    {
        var error = ConfigText.Single(Node("[node]\nname = \"lb1\"\n[system]\nroles = [\"balancer\"]\n"));
        Assert.Equal("vrrp", error.Key);
    }

    [Fact]
    public void This_node_must_be_one_of_the_etcd_members()
    {
        var error = ConfigText.Single(Node(Cluster, DatabaseNode.Replace("\"db1=http", "\"db3=http", StringComparison.Ordinal)));
        Assert.Equal("system.etcd_initial_cluster", error.Key);
        Assert.Contains("expected this node (db1) among the etcd members, found db3, db2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mac = \"52:54:00:AA:00:11\"", "mac = \"52-54-00-aa-00-11\"", "system.interface[0].mac", "expected a MAC address")]
    [InlineData("addresses = [\"10.0.0.11/24\"]", "addresses = [\"10.0.0.11\"]", "system.interface[0].addresses", "with its prefix length")]
    [InlineData("roles = [\"database\"]", "roles = [\"database\"]\nhostname = \"db_1\"", "system.hostname", "expected a host name")]
    [InlineData("\"db2=http://10.0.0.12:2380\"", "\"db2@10.0.0.12\"", "system.etcd_initial_cluster", "expected name=http://address:port")]
    public void A_bad_value_names_its_key(string good, string bad, string key, string expected)
    {
        var error = ConfigText.Single(Node(Cluster, DatabaseNode.Replace(good, bad, StringComparison.Ordinal)));
        Assert.Equal(key, error.Key);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_interfaces_with_one_mac_or_one_name_are_refused()
    {
        var twice = DatabaseNode + "\n[[system.interface]]\nname = \"lan0\"\nmac = \"52:54:00:aa:00:11\"\n";
        var result = Node(Cluster, twice);
        Assert.Equal(["system.interface[1].mac", "system.interface[1].name"], result.Errors.Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_vrrp_instance_on_an_interface_the_node_does_not_name_is_refused()
    {
        var error = ConfigText.Single(Node(BalancerNode.Replace("interface = \"lan0\"", "interface = \"eth0\"", StringComparison.Ordinal)));
        Assert.Equal("vrrp[0].interface", error.Key);
        Assert.Contains("expected one of the [[system.interface]] names (lan0), found \"eth0\"", error.Message, StringComparison.Ordinal);
    }
}
