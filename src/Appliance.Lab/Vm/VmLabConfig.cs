using System.Globalization;
using Appliance.Lab.Balancer;
using Appliance.Lab.NetLab;
using Appliance.Lab.Netns;

namespace Appliance.Lab.Vm;

/// <summary>
/// The drop-ins of the VM lab, the documented way: one cluster file every node gets (<c>10-cluster.toml</c>)
/// and a small file per node (<c>20-node.toml</c>: name, role, interface by MAC, VRRP priority). The content
/// is the namespace lab's (<see cref="ApplianceStack"/>): same addresses, VIP, ports and checks; paths and
/// listeners are the image's defaults.
/// </summary>
public static class VmLabConfig
{
    /// <summary>The interface name every VM gives its one card (found by MAC).</summary>
    public const string Interface = "lan0";
    public const string SuperuserPassword = "vmlab-superuser";
    public const string ReplicationPassword = "vmlab-replication";

    /// <summary>
    /// The production profile where it fits software emulation: five VMs on two cores stall for hundreds of
    /// milliseconds, so VRRP adverts every second (not 100 ms: a stalled backup would take the VIP) and a
    /// 20 s lease with a 2 s loop (a 10 s lease could lapse while etcd waits for an emulated disk).
    /// Synchronous mode stays: nothing acknowledged may be lost.
    /// </summary>
    public static LabProfile Profile { get; } = LabProfile.Production with
    {
        Name = "vm", Ttl = 20, LoopWait = 2, RetryTimeout = 8, AdvertInterval = 1, CheckInter = 2,
    };

    /// <summary>How long a returning higher-priority balancer waits before taking the VIP back (its proxy's discovery and first checks).</summary>
    public const int PreemptDelaySeconds = 30;

    /// <summary>The hardware watchdog every database VM arms: QEMU's i6300esb, timeout ttl - safety_margin.</summary>
    public sealed record Watchdog(string Mode = "required", int SafetyMargin = 5);

    /// <summary>Both files for <paramref name="node"/>.</summary>
    public static Dictionary<string, string> For(NodeSpec node, LabProfile profile, Watchdog watchdog, IReadOnlyList<NodeSpec> databases) => new()
    {
        ["10-cluster.toml"] = Cluster(profile, watchdog, databases),
        ["20-node.toml"] = LabLayout.IsBalancer(node.Name) ? BalancerNode(node, profile) : DatabaseNode(node, databases),
    };

    /// <summary>What every node shares: the cluster, etcd's members, timings, passwords, the watchdog, the proxy.</summary>
    public static string Cluster(LabProfile p, Watchdog w, IReadOnlyList<NodeSpec> databases) => string.Create(CultureInfo.InvariantCulture, $"""
        # The cluster: the same file on every node of the VM lab.
        [cluster]
        scope = "vmlab"

        [etcd]
        endpoints = [{string.Join(", ", databases.Select(d => $"\"http://{d.Address}:{LabLayout.EtcdClientPort}\""))}]

        [agent]
        ttl = {p.Ttl}
        loop_wait = {p.LoopWait}
        retry_timeout = {p.RetryTimeout}
        maximum_lag_on_failover = {p.MaximumLagOnFailover}
        synchronous_mode = {(p.SynchronousMode ? "true" : "false")}

        [postgresql.parameters]
        shared_buffers = "32MB"
        max_connections = 100

        [postgresql.superuser]
        password = "{SuperuserPassword}"

        [postgresql.replication]
        password = "{ReplicationPassword}"

        [watchdog]
        # QEMU's -device i6300esb, picked by what its driver calls itself.
        mode = "{w.Mode}"
        identity = "i6300ESB timer"
        safety_margin = {w.SafetyMargin}

        {ApplianceStack.ProxyToml(p)}
        """);

    static string DatabaseNode(NodeSpec node, IReadOnlyList<NodeSpec> databases) => $"""
        {NodeHeader(node, "database")}
        etcd_initial_cluster = [{string.Join(", ", databases.Select(d => $"\"{d.Name}=http://{d.Address}:{LabLayout.EtcdPeerPort}\""))}]
        {InterfaceToml(node)}
        """;

    /// <summary>A balancer's file: its VRRP instance with its own priority (lb1 preferred), /metrics on the image's default port.</summary>
    static string BalancerNode(NodeSpec node, LabProfile p)
    {
        var vrrp = new BalancerInstance
        {
            Interface = Interface,
            VirtualRouterId = LabLayout.VirtualRouterId,
            Priority = node.Name == LabLayout.Lb1.Name ? 150 : 100,
            Vip = LabLayout.Vip,
            VipPrefixLength = LabLayout.VipPrefixLength,
            Version = p.VrrpVersion,
            AdvertInterval = TimeSpan.FromSeconds(p.AdvertInterval),
            GarpMasterDelay = p.GarpMasterDelay,
            Listen = $"0.0.0.0:{LabLayout.BalancerStatusPort}",
            // A booting lb1 outranks lb2; without a delay it takes the VIP back the moment its VRRP speaker
            // starts, possibly before its proxy has found the primary (in one run a 23 s write gap began when
            // lb1's role started). Whether 30 s closes that gap is not measured yet.
            Extra = $"preempt_delay = {PreemptDelaySeconds}",
        };
        return $"""
            {NodeHeader(node, "balancer")}
            {InterfaceToml(node)}
            {vrrp.Render()}
            """;
    }

    static string NodeHeader(NodeSpec node, string role) => $"""
        # {node.Name}: this node's own file.
        [node]
        name = "{node.Name}"
        address = "{node.Address}"

        [system]
        roles = ["{role}"]
        """;

    static string InterfaceToml(NodeSpec node) => $"""

        [[system.interface]]
        name = "{Interface}"
        mac = "{node.MacText}"
        addresses = ["{node.Address}/{node.PrefixLength}"]

        """;
}
