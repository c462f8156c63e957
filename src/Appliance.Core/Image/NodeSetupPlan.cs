using System.Text;
using Appliance.Configuration;

namespace Appliance.Image;

/// <summary>
/// What the appliance image makes of a node's validated configuration at boot: the files that set its
/// host name, network, time servers and etcd member, and the roles to start. Pure: the caller writes
/// <see cref="Files"/> under the root and starts the roles (<c>appliance-agent setup-node</c>).
/// </summary>
public sealed record NodeSetupPlan(string Hostname, IReadOnlyList<string> Roles, IReadOnlyList<PlannedFile> Files)
{
    /// <summary>Where etcd's settings go; <c>appliance-etcd.service</c> reads them as its environment.</summary>
    public const string EtcdEnvironmentFile = "run/appliance/etcd.env";
    /// <summary>"mac name" per line: the interfaces to rename before systemd-networkd starts.</summary>
    public const string InterfacesFile = "run/appliance/interfaces";
    /// <summary>One role per line, what the set-up starts (<c>appliance-ROLE.target</c>).</summary>
    public const string RolesFile = "run/appliance/roles";
    /// <summary>Where the database role keeps PostgreSQL and etcd: the data disk labelled <c>APPLIANCE-DATA</c>.</summary>
    public const string DataRoot = "/var/lib/appliance";

    /// <summary>The plan for <paramref name="config"/>, which must have passed validation as <see cref="ConfigRole.Node"/>.</summary>
    public static NodeSetupPlan For(ApplianceConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var system = config.System;
        var hostname = system.Hostname ?? config.Node.Name;
        var files = new List<PlannedFile>
        {
            new("etc/hostname", hostname + "\n"),
            new(InterfacesFile, string.Concat(system.Interface.Select(i => $"{i.Mac.ToLowerInvariant()} {i.Name}\n"))),
            new(RolesFile, string.Concat(system.Roles.Distinct(StringComparer.Ordinal).Select(r => r + "\n"))),
        };
        files.AddRange(system.Interface.Select(i => new PlannedFile($"run/systemd/network/10-appliance-{i.Name}.network", Network(i, system.Dns))));
        if (system.Ntp.Count > 0)
            files.Add(new("run/systemd/timesyncd.conf.d/50-appliance.conf", $"[Time]\nNTP={string.Join(' ', system.Ntp)}\n"));
        if (system.Roles.Contains("database"))
            files.Add(new(EtcdEnvironmentFile, EtcdEnvironment(config)));
        return new(hostname, [.. system.Roles.Distinct(StringComparer.Ordinal)], files);
    }

    /// <summary>A systemd-networkd unit: static addresses (DHCP when none), no IPv6 autoconfiguration, up without carrier.</summary>
    private static string Network(SystemInterfaceSection i, IReadOnlyList<string> dns)
    {
        var text = new StringBuilder();
        text.Append("[Match]\nName=").Append(i.Name).Append('\n');
        text.Append("\n[Network]\n");
        if (i.Addresses.Count == 0) text.Append("DHCP=ipv4\n");
        foreach (var address in i.Addresses) text.Append("Address=").Append(address).Append('\n');
        if (i.Gateway is not null) text.Append("Gateway=").Append(i.Gateway).Append('\n');
        foreach (var server in dns) text.Append("DNS=").Append(server).Append('\n');
        // A VIP is added and removed by the balancer: networkd must leave foreign addresses alone.
        text.Append("LinkLocalAddressing=no\nIPv6AcceptRA=no\nConfigureWithoutCarrier=yes\nKeepConfiguration=yes\n");
        return text.ToString();
    }

    /// <summary>
    /// etcd's settings as its ETCD_* environment: this node's member of <c>system.etcd_initial_cluster</c>,
    /// clients on its own address and loopback, data on the data disk.
    /// </summary>
    private static string EtcdEnvironment(ApplianceConfig config)
    {
        var name = config.Node.Name;
        var self = config.System.EtcdInitialCluster.First(m => m.StartsWith(name + "=", StringComparison.Ordinal));
        var peer = self[(name.Length + 1)..].TrimEnd('/');
        var client = $"http://{config.Node.Address}:2379";
        return $"""
            ETCD_NAME={name}
            ETCD_DATA_DIR={DataRoot}/etcd
            ETCD_LISTEN_PEER_URLS={peer}
            ETCD_INITIAL_ADVERTISE_PEER_URLS={peer}
            ETCD_LISTEN_CLIENT_URLS={client},http://127.0.0.1:2379
            ETCD_ADVERTISE_CLIENT_URLS={client}
            ETCD_INITIAL_CLUSTER={string.Join(',', config.System.EtcdInitialCluster)}
            ETCD_INITIAL_CLUSTER_TOKEN={config.Cluster.Scope}
            ETCD_INITIAL_CLUSTER_STATE=new

            """;
    }
}

/// <summary>A file the set-up writes: its path relative to the root, and its text.</summary>
public sealed record PlannedFile(string Path, string Content);
