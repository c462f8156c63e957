using System.Collections.Concurrent;

namespace Appliance.Lab.Netns;

/// <summary>
/// A private network on this machine: a "switch" namespace holding a Linux bridge, and one namespace
/// per node cabled to it by a veth pair, with the node's MAC and address. Nothing is ever added to
/// the host's own namespace: each veth pair is created with both ends already inside namespaces,
/// the bridge lives in the switch namespace, and addresses exist only on the nodes' interfaces, so
/// no traffic can leave the topology.
/// </summary>
/// <remarks>
/// Names are unique per topology and carry the owner's PID (<see cref="NetnsName"/>); creating a
/// topology first sweeps leftovers of crashed runs (<see cref="NetnsSweeper"/>). Dispose removes
/// every process started here, every process still inside the namespaces, the namespaces and the
/// working folder, even when creation failed half-way.
/// </remarks>
public sealed class NetnsTopology : IAsyncDisposable
{
    /// <summary>The bridge's name inside the switch namespace.</summary>
    public const string Bridge = "br0";

    readonly List<string> _namespaces = [];
    readonly ConcurrentBag<ChildProcess> _processes = [];
    readonly Dictionary<string, NodeSpec> _nodes = [];
    int _captures;

    /// <summary>The name prefix of this topology's namespaces and folder.</summary>
    public NetnsName Name { get; }

    /// <summary>The folder for this topology's files (logs, captures, configurations), removed on dispose.</summary>
    public string WorkDir { get; }

    /// <summary>The namespace holding the bridge.</summary>
    public string SwitchNamespace => Name.Namespace("sw");

    public IReadOnlyCollection<NodeSpec> Nodes => _nodes.Values;

    NetnsTopology(NetnsName name)
    {
        Name = name;
        WorkDir = Path.Combine(Path.GetTempPath(), name.Prefix);
        Directory.CreateDirectory(WorkDir);
    }

    /// <summary>Creates the switch and <paramref name="nodes"/>, after sweeping leftovers of crashed runs.</summary>
    public static async Task<NetnsTopology> CreateAsync(IEnumerable<NodeSpec> nodes)
    {
        await NetnsSweeper.SweepAsync();
        var t = new NetnsTopology(NetnsName.New());
        try
        {
            await t.AddNamespaceAsync(t.SwitchNamespace);
            // Multicast snooping off: every VRRP advert must reach every port whatever IGMP state the bridge learned.
            await Command.IpAsync("-n", t.SwitchNamespace, "link", "add", Bridge, "type", "bridge", "mcast_snooping", "0");
            await Command.IpAsync("-n", t.SwitchNamespace, "link", "set", Bridge, "up");
            foreach (var node in nodes) await t.AddNodeAsync(node);
            return t;
        }
        catch
        {
            await t.DisposeAsync();
            throw;
        }
    }

    async Task AddNamespaceAsync(string ns)
    {
        await Command.IpAsync("netns", "add", ns);
        _namespaces.Add(ns);
        await Command.IpAsync("-n", ns, "link", "set", "lo", "up");
        // No IPv6: no link-local addresses, router solicitations or DAD in the captures.
        (await Command.RunAsync("ip", ["netns", "exec", ns, "sysctl", "-qw",
            "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])).Check();
    }

    async Task AddNodeAsync(NodeSpec node)
    {
        if (node.Name == "sw" || !System.Text.RegularExpressions.Regex.IsMatch(node.Name, "^[a-z0-9]{1,12}$") || _nodes.ContainsKey(node.Name))
            throw new ArgumentException($"bad or duplicate node name '{node.Name}': 1-12 lower-case letters and digits, not 'sw'");
        var ns = NamespaceOf(node);
        await AddNamespaceAsync(ns);
        _nodes[node.Name] = node;
        // Both ends are created directly inside their namespaces: the veth never exists in the host's.
        await Command.IpAsync("link", "add", NodeSpec.Interface, "netns", ns, "type", "veth", "peer", "name", node.SwitchPort, "netns", SwitchNamespace);
        await Command.IpAsync("-n", SwitchNamespace, "link", "set", node.SwitchPort, "master", Bridge);
        await Command.IpAsync("-n", SwitchNamespace, "link", "set", node.SwitchPort, "up");
        await Command.IpAsync("-n", ns, "link", "set", NodeSpec.Interface, "address", node.MacText);
        await Command.IpAsync("-n", ns, "addr", "add", $"{node.Address}/{node.PrefixLength}", "dev", NodeSpec.Interface);
        await Command.IpAsync("-n", ns, "link", "set", NodeSpec.Interface, "up");
    }

    /// <summary>The namespace of node <paramref name="node"/>.</summary>
    public string NamespaceOf(string node) => _nodes.ContainsKey(node) ? Name.Namespace(node) : throw new ArgumentException($"no node '{node}' in this topology");

    string NamespaceOf(NodeSpec node) => Name.Namespace(node.Name);

    /// <summary>The spec of node <paramref name="node"/>.</summary>
    public NodeSpec Node(string node) => _nodes.TryGetValue(node, out var n) ? n : throw new ArgumentException($"no node '{node}' in this topology");

    /// <summary>A path in <see cref="WorkDir"/>.</summary>
    public string FilePath(string name) => Path.Combine(WorkDir, name);

    /// <summary>
    /// Starts <paramref name="file"/> inside <paramref name="node"/>'s namespace (<c>ip netns exec</c>,
    /// which execs the program: the PID is the program's own, for signals). Output goes to
    /// <c>&lt;name&gt;.log</c> in <see cref="WorkDir"/>; the process is stopped on dispose.
    /// </summary>
    public ChildProcess Start(string node, string name, string file, IEnumerable<string> args)
    {
        var p = ChildProcess.Start(name, "ip", ["netns", "exec", NamespaceOf(node), file, .. args], FilePath(name + ".log"));
        _processes.Add(p);
        return p;
    }

    /// <summary>Runs a command inside <paramref name="node"/>'s namespace to completion and returns its output.</summary>
    public Task<CommandResult> ExecAsync(string node, string file, params string[] args)
        => Command.RunAsync("ip", ["netns", "exec", NamespaceOf(node), file, .. args]);

    /// <summary>
    /// Pulls (<paramref name="up"/> false) or plugs back the node's cable: its port on the bridge goes
    /// down, so the node sees its carrier go away as with a real cable.
    /// </summary>
    public async Task SetLinkAsync(string node, bool up)
        => await Command.IpAsync("-n", SwitchNamespace, "link", "set", Node(node).SwitchPort, up ? "up" : "down");

    const string BlockTable = "apl_block_multicast";

    /// <summary>
    /// Drops every IPv4 multicast packet the node sends or receives (nftables in its namespace), for
    /// tests of unicast VRRP. Raw sockets see packets after the input hook, so a VRRP speaker there hears
    /// no multicast advert.
    /// </summary>
    public async Task BlockMulticastAsync(string node)
    {
        var rules = $$"""
            table ip {{BlockTable}} {
              chain input { type filter hook input priority 0; policy accept; ip daddr 224.0.0.0/4 drop; }
              chain output { type filter hook output priority 0; policy accept; ip daddr 224.0.0.0/4 drop; }
            }
            """;
        (await Command.RunAsync("ip", ["netns", "exec", NamespaceOf(node), "nft", "-f", "-"], rules)).Check();
    }

    /// <summary>Lifts <see cref="BlockMulticastAsync"/>.</summary>
    public async Task UnblockMulticastAsync(string node)
        => (await ExecAsync(node, "nft", "delete", "table", "ip", BlockTable)).Check();

    /// <summary>
    /// Starts capturing every frame on the bridge into <c>&lt;name&gt;.pcap</c> in <see cref="WorkDir"/>,
    /// optionally with a tcpdump filter; returns once tcpdump is listening.
    /// </summary>
    public async Task<PacketCapture> StartCaptureAsync(string? name = null, string? filter = null)
    {
        var file = FilePath($"{name ?? "capture" + Interlocked.Increment(ref _captures)}.pcap");
        var capture = await PacketCapture.StartAsync(SwitchNamespace, Bridge, file, filter, TimeSpan.FromSeconds(30));
        _processes.Add(capture.Process);
        return capture;
    }

    /// <summary>The node's IPv4 addresses on its interface, as <c>ip -4 -o addr</c> lists them.</summary>
    public async Task<IReadOnlyList<string>> AddressesAsync(string node)
    {
        var r = (await ExecAsync(node, "ip", "-4", "-o", "addr", "show", "dev", NodeSpec.Interface)).Check();
        return r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(f => f[Array.IndexOf(f, "inet") + 1]).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        // Processes first (a namespace with a process inside outlives its name), then the namespaces
        // (deleting the switch's takes the bridge and every veth pair with it), then the files.
        await Task.WhenAll(_processes.Select(p => p.DisposeAsync().AsTask()));
        foreach (var ns in _namespaces) await NetnsSweeper.KillAllInAsync(ns);
        foreach (var ns in _namespaces) await Command.RunAsync("ip", ["netns", "del", ns]);
        _namespaces.Clear();
        // APPLIANCE_LAB_KEEP=1 keeps the folder (configurations, logs, data) for a post-mortem, until the next run sweeps it.
        if (Environment.GetEnvironmentVariable("APPLIANCE_LAB_KEEP") == "1") return;
        try { Directory.Delete(WorkDir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
