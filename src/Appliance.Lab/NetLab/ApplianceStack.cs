using System.Globalization;
using System.Text;
using Appliance.Lab.Balancer;

namespace Appliance.Lab.NetLab;

/// <summary>
/// Our stack: <c>appliance-agent</c> on each database node and one <c>appliance-balancer</c> (proxy and
/// VRRP in one process) on each balancer node, the published AOT binaries with the TOML written here,
/// as on the appliance.
/// </summary>
public sealed class ApplianceStack : ILabStack
{
    public string Name => "appliance";
    public string DatabaseManager => "agent";
    public IReadOnlyList<string> BalancerServices { get; } = ["balancer"];

    public void StartDatabase(NetLab lab, LabNode node)
        => Run(lab, node, "agent", lab.Binaries.Agent, [], "appliance.toml", AgentConfig(lab, node));

    public void StartBalancer(NetLab lab, LabNode node, int priority)
        => Run(lab, node, "balancer", lab.Binaries.Balancer, ["run"], "balancer.toml", BalancerConfig(lab, priority));

    /// <summary>Writes the configuration (owner-only: it holds passwords) and runs the binary with it.</summary>
    static void Run(NetLab lab, LabNode node, string service, string binary, string[] command, string file, string toml)
    {
        var config = Path.Combine(node.Dir, file);
        File.WriteAllText(config, toml);
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        node.Run(service, () => lab.Topology.Start(node.Name, $"{node.Name}-{service}", binary, [.. command, "--config", config]));
    }

    /// <summary>Where the cluster's keys are: the same for the agents and the balancers.</summary>
    static string ClusterToml(NetLab lab) => $"""
        [cluster]
        scope = "{lab.Scope}"
        namespace = "{NetLab.KeyNamespace}"

        [etcd]
        endpoints = [{string.Join(", ", LabLayout.EtcdEndpoints.Select(e => $"\"{e}\""))}]

        """;

    /// <summary>The agent's TOML for <paramref name="node"/>.</summary>
    public static string AgentConfig(NetLab lab, LabNode node)
    {
        var p = lab.Profile;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"""
            # written by the Appliance lab for {node.Name} ({p.Name} profile)
            [node]
            name = "{node.Name}"
            address = "{node.Address}"

            {ClusterToml(lab)}
            [agent]
            ttl = {p.Ttl}
            loop_wait = {p.LoopWait}
            retry_timeout = {p.RetryTimeout}
            maximum_lag_on_failover = {p.MaximumLagOnFailover}
            synchronous_mode = {(p.SynchronousMode ? "true" : "false")}

            [postgresql]
            data_dir = "{node.DataDir}"
            listen = "{node.Address},127.0.0.1"
            port = {LabLayout.PostgresPort}

            [postgresql.parameters]
            shared_buffers = "32MB"
            max_connections = 100

            [postgresql.superuser]
            username = "postgres"
            password = "{lab.SuperuserPassword}"

            [postgresql.replication]
            username = "replicator"
            password = "{lab.ReplicationPassword}"

            [restapi]
            listen = "{node.Address}:{LabLayout.RestApiPort}"

            # No watchdog device exists in a network namespace; on the appliance it is "required".
            [watchdog]
            mode = "off"

            """);
        return sb.ToString();
    }

    /// <summary>The balancer's TOML: the proxy following the cluster through etcd, listeners on the VIP, VRRP.</summary>
    public static string BalancerConfig(NetLab lab, int priority)
    {
        var p = lab.Profile;
        var vip = LabLayout.Vip;
        var vrrp = new BalancerInstance
        {
            Interface = Netns.NodeSpec.Interface,
            VirtualRouterId = LabLayout.VirtualRouterId,
            Priority = priority,
            Vip = vip,
            VipPrefixLength = LabLayout.VipPrefixLength,
            Version = p.VrrpVersion,
            AdvertInterval = TimeSpan.FromSeconds(p.AdvertInterval),
            GarpMasterDelay = p.GarpMasterDelay,
            AuthPass = p.VrrpVersion == 2 ? NetLab.VrrpPassword : null,
            Listen = $"0.0.0.0:{LabLayout.BalancerStatusPort}",
        };
        return vrrp.Render() + $"""

            {ClusterToml(lab)}
            {ProxyToml(p)}
            """;
    }

    /// <summary>The proxy both labs' balancers run: following the cluster through etcd, a primary and a replica listener on the VIP, the profile's checks.</summary>
    public static string ProxyToml(LabProfile p) => string.Create(CultureInfo.InvariantCulture, $"""
        [proxy]
        discovery = "etcd"

        [proxy.check]
        type = "http"
        inter = {p.CheckInter.ToString("0.0##", CultureInfo.InvariantCulture)}
        fall = {p.CheckFall}
        rise = {p.CheckRise}

        [[proxy.listener]]
        name = "primary"
        bind = "{LabLayout.Vip}:{LabLayout.PrimaryPort}"
        role = "primary"

        [[proxy.listener]]
        name = "replicas"
        bind = "{LabLayout.Vip}:{LabLayout.ReplicaPort}"
        role = "replica"

        """);
}
