namespace Appliance.Configuration;

/// <summary>
/// <c>[system]</c>: what the appliance image's boot-time setup (<c>appliance-agent setup-node</c>) makes of
/// the node: its host name, its network, which roles run, and the etcd member a database node runs.
/// The daemons themselves ignore it; a configuration outside the image needs none of it.
/// </summary>
public sealed record SystemSection
{
    /// <summary><c>roles</c>: which roles run: <c>database</c> (etcd member, PostgreSQL and <c>appliance-agent</c>), <c>balancer</c> (<c>appliance-balancer</c>), or both. Required on the image.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];
    /// <summary><c>hostname</c>: the host name; <c>node.name</c> when unset.</summary>
    public string? Hostname { get; init; }
    /// <summary><c>dns</c>: name servers, IPv4 addresses.</summary>
    public IReadOnlyList<string> Dns { get; init; } = [];
    /// <summary><c>ntp</c>: time servers for systemd-timesyncd (names or addresses); Debian's pool when empty.</summary>
    public IReadOnlyList<string> Ntp { get; init; } = [];
    /// <summary><c>etcd_initial_cluster</c>: every etcd member of the cluster as <c>name=http://address:2380</c>; required with the database role, and this node's <c>node.name</c> must be one of them.</summary>
    public IReadOnlyList<string> EtcdInitialCluster { get; init; } = [];
    /// <summary><c>[[system.interface]]</c>: the network interfaces, each found by its MAC address (see <see cref="SystemInterfaceSection"/>).</summary>
    public IReadOnlyList<SystemInterfaceSection> Interface { get; init; } = [];
}

/// <summary>One <c>[[system.interface]]</c>: a network interface found by MAC address, renamed and given static addresses.</summary>
public sealed record SystemInterfaceSection
{
    /// <summary><c>name</c>: the name the interface gets (what <c>[[vrrp]].interface</c> names), such as <c>lan0</c>. Required.</summary>
    public string Name { get; init; } = "";
    /// <summary><c>mac</c>: the MAC address that picks the interface, <c>52:54:00:12:34:56</c>. Required.</summary>
    public string Mac { get; init; } = "";
    /// <summary><c>addresses</c>: static IPv4 addresses with their prefix length; none means DHCP.</summary>
    public IReadOnlyList<string> Addresses { get; init; } = [];
    /// <summary><c>gateway</c>: the default route's next hop, when this interface has it.</summary>
    public string? Gateway { get; init; }
}
