using System.Globalization;
using Appliance.Lab.NetLab;
using Appliance.Lab.Netns;

namespace Appliance.Lab.Vm;

/// <summary>
/// Appliance VMs booted from the one image on a private bridge (<see cref="VmNetwork"/>): database VMs and,
/// when asked, balancer VMs sharing the VIP by VRRP. The host reaches them through loopback forwards whose
/// upstream sockets live in the namespace (keys as the namespace lab's: "db1.api", "db1.pg", "lb1.status",
/// "vip.primary", "vip.replica"). A VM can crash (power cord) and boot again from its disks. Disposing kills
/// every QEMU and removes the namespace and every file.
/// </summary>
public sealed class VmLab : IAsyncDisposable
{
    /// <summary>Memory per VM: a database VM runs etcd, PostgreSQL and the agent; a balancer only the balancer.</summary>
    public const int DatabaseMemoryMiB = 1280;
    public const int BalancerMemoryMiB = 640;

    readonly Dictionary<string, QemuVm> _vms = [];
    readonly Dictionary<string, IReadOnlyDictionary<string, string>> _configs = [];
    readonly LabForwards _forwards = new();

    VmLab(VmNetwork network, IReadOnlyList<NodeSpec> databases, IReadOnlyList<NodeSpec> balancers, LabProfile profile)
    {
        Network = network;
        Databases = databases;
        Balancers = balancers;
        Profile = profile;
    }

    public VmNetwork Network { get; }
    public IReadOnlyList<NodeSpec> Databases { get; }
    public IReadOnlyList<NodeSpec> Balancers { get; }
    public LabProfile Profile { get; }
    public LabProbe Probe { get; private set; } = null!;
    public IReadOnlyDictionary<string, int> Ports => _forwards.Ports;
    public IEnumerable<NodeSpec> Nodes => Databases.Concat(Balancers);

    /// <summary>The running VM called <paramref name="name"/>.</summary>
    public QemuVm this[string name] => _vms[name];

    /// <summary>
    /// Waits until the image is not being rewritten, creates the network and boots every VM (each with one
    /// virtual CPU, so five share two cores). Returns once QEMU runs; <see cref="WaitAsync"/> waits for the cluster.
    /// </summary>
    public static async Task<VmLab> StartAsync(IReadOnlyList<NodeSpec> databases, IReadOnlyList<NodeSpec> balancers, LabProfile profile,
        VmLabConfig.Watchdog watchdog, TextWriter output, CancellationToken ct)
    {
        await ImageSettledAsync(output, ct);
        var network = await VmNetwork.CreateAsync(databases.Concat(balancers).Select(n => n.Name));
        var lab = new VmLab(network, databases, balancers, profile);
        try
        {
            foreach (var node in lab.Nodes)
            {
                lab._configs[node.Name] = VmLabConfig.For(node, profile, watchdog, databases);
                await lab.BootAsync(node.Name, keepDisks: false);
                var ns = network.Namespace;
                if (LabLayout.IsBalancer(node.Name)) lab._forwards.Add($"{node.Name}.status", ns, node.Address, LabLayout.BalancerStatusPort);
                else
                {
                    lab._forwards.Add($"{node.Name}.api", ns, node.Address, LabLayout.RestApiPort);
                    lab._forwards.Add($"{node.Name}.pg", ns, node.Address, LabLayout.PostgresPort);
                }
            }
            lab._forwards.Add("vip.primary", network.Namespace, LabLayout.Vip, LabLayout.PrimaryPort);
            lab._forwards.Add("vip.replica", network.Namespace, LabLayout.Vip, LabLayout.ReplicaPort);
            lab.Probe = new LabProbe(lab._forwards.Ports, new Dictionary<string, string>(), VmLabConfig.SuperuserPassword);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Another engineer may rebuild image/out; a VM whose backing file is rewritten under it reads garbage.
    /// Wait until the qcow2 has not changed for a while before any overlay points at it.
    /// </summary>
    static async Task ImageSettledAsync(TextWriter output, CancellationToken ct)
    {
        var image = ApplianceImage.Qcow2();
        for (var said = false; ; said = true)
        {
            var before = File.GetLastWriteTimeUtc(image);
            if (DateTime.UtcNow - before > TimeSpan.FromSeconds(30))
            {
                await Task.Delay(TimeSpan.FromSeconds(2), ct);
                if (File.GetLastWriteTimeUtc(image) == before) return;
            }
            if (!said) await output.WriteLineAsync($"waiting for {image} to stop changing (being rebuilt?)");
            await Task.Delay(TimeSpan.FromSeconds(5), ct);
        }
    }

    /// <summary>Boots <paramref name="name"/>: from new disks, or (<paramref name="keepDisks"/>) from the ones it had when it crashed.</summary>
    public async Task BootAsync(string name, bool keepDisks = true)
    {
        var node = Nodes.Single(n => n.Name == name);
        var database = LabLayout.IsDatabase(name);
        _vms[name] = await QemuVm.StartAsync(name, Path.Combine(Network.Dir, name), _configs[name], node.MacText, VmNetwork.Netdev(name),
            memoryMiB: database ? DatabaseMemoryMiB : BalancerMemoryMiB, netns: Network.Namespace, cpus: 1, keepDisks: keepDisks);
    }

    /// <summary>Pulls <paramref name="name"/>'s power cord: QEMU killed, its disks kept for <see cref="BootAsync"/>.</summary>
    public Task CrashAsync(string name) => _vms[name].PowerOffAsync();

    /// <summary>Every member, the VIP holders (by the balancers' own VRRP state) and where the VIP's listeners lead.</summary>
    public async Task<LabHealth> ReadAsync(CancellationToken ct = default)
    {
        var members = Task.WhenAll(Databases.Select(d => Probe.MemberAsync(d.Name, ct)));
        var holders = Task.WhenAll(Balancers.Select(async b => await IsVrrpMasterAsync(b.Name, ct) ? b.Name : null));
        var primary = Balancers.Count > 0 ? Probe.RouteAsync("vip.primary", ct) : Task.FromResult<Route?>(null);
        var replica = Balancers.Count > 0 ? Probe.RouteAsync("vip.replica", ct) : Task.FromResult<Route?>(null);
        return new(await members, (await holders).OfType<string>().ToList(), await primary, await replica);
    }

    /// <summary>True when the balancer answers and its /metrics says its VRRP instance is master (a crashed VM does not answer).</summary>
    public async Task<bool> IsVrrpMasterAsync(string balancer, CancellationToken ct = default)
    {
        var metrics = await Probe.GetAsync($"{balancer}.status", "/metrics", ct);
        return metrics is not null && metrics.Split('\n').Any(l =>
            l.StartsWith("appliance_vrrp_state{", StringComparison.Ordinal) && l.Contains("state=\"master\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, printing each VM's boot stage and each part of the lab
    /// whenever it changes; a timeout names what it last saw and the consoles of the VMs that are not there.
    /// </summary>
    public async Task<LabHealth> WaitAsync(string what, Func<LabHealth, bool> condition, TextWriter output, TimeSpan deadline, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        var shown = new Dictionary<int, string>();
        LabHealth? seen = null;
        while (true)
        {
            seen = await ReadAsync(ct);
            if (condition(seen)) return seen;
            var lines = _vms.Select(v => $"{v.Key} VM: {Stage(v.Value)}").Concat(seen.ProgressLines()
                .Where(l => Balancers.Count > 0 || !l.StartsWith("VIP", StringComparison.Ordinal))).ToList();
            // Each line keeps its place in the list: it is shown again only when it changes.
            for (var i = 0; i < lines.Count; i++)
            {
                if (shown.GetValueOrDefault(i) == lines[i]) continue;
                shown[i] = lines[i];
                await output.WriteLineAsync($"  [{(DateTime.UtcNow - started).TotalSeconds,5:0}s] {lines[i]}");
            }
            if (DateTime.UtcNow - started > deadline)
                throw new TimeoutException($"not within {deadline.TotalMinutes:0} min: {what}\nlast seen:\n  {string.Join("\n  ", seen.Lines())}\n{ConsoleTails()}");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    /// <summary>
    /// In synchronous mode, waits until a replica of <paramref name="leader"/> is the synchronous standby (its
    /// GET /sync answers 200): before that no replica may be promoted, and a crashed primary stays without successor.
    /// </summary>
    public async Task<string?> WaitSyncStandbyAsync(string leader, TextWriter output, TimeSpan deadline, CancellationToken ct)
    {
        if (!Profile.SynchronousMode) return null;
        var started = DateTime.UtcNow;
        await output.WriteLineAsync("waiting for a synchronous standby ...");
        while (true)
        {
            foreach (var d in Databases.Where(d => d.Name != leader))
            {
                if (await Probe.GetAsync($"{d.Name}.api", "/sync", ct) is not null)
                {
                    await output.WriteLineAsync($"{d.Name} is the synchronous standby after {(DateTime.UtcNow - started).TotalSeconds:0} s");
                    return d.Name;
                }
            }
            if (DateTime.UtcNow - started > deadline)
                throw new TimeoutException($"no replica of {leader} became the synchronous standby within {deadline.TotalMinutes:0} min\n{ConsoleTails()}");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    /// <summary>What the console says about a VM's boot, coarsely: enough to see five VMs progress under emulation.</summary>
    static string Stage(QemuVm vm)
    {
        if (vm.HasExited) return "powered off";
        var console = vm.Console();
        var boot = console.LastIndexOf("Linux version ", StringComparison.Ordinal);
        if (boot < 0) return "firmware";
        var tail = console[boot..];
        var stage = tail.Contains("CONFIGURATION ERROR", StringComparison.Ordinal) ? "CONFIGURATION ERROR"
            : tail.Contains("appliance-setup: starting the", StringComparison.Ordinal) ? "role started"
            : tail.Contains("appliance-setup: configuration from", StringComparison.Ordinal) ? "drop-in read"
            : "kernel booting";
        return vm.Boots > 1 ? string.Create(CultureInfo.InvariantCulture, $"{stage} (boot {vm.Boots})") : stage;
    }

    /// <summary>The console tails of every VM, for failure messages.</summary>
    public string ConsoleTails(int lines = 15) =>
        string.Join("\n", _vms.Select(v => $"--- {v.Key} console ---\n{v.Value.ConsoleTail(lines)}"));

    /// <summary>How to reach the lab from this machine, for the command's banner.</summary>
    public IEnumerable<string> Directions()
    {
        var p = Ports;
        yield return $"namespace {Network.Namespace}: bridge with the client address {LabLayout.Client.Address}; VMs' files in {Network.Dir}";
        yield return $"  e.g. ip netns exec {Network.Namespace} curl -s http://{LabLayout.Databases[0].Address}:{LabLayout.RestApiPort}/patroni";
        yield return $"read-write through the VIP: psql 'host=127.0.0.1 port={p["vip.primary"]} user=postgres password={VmLabConfig.SuperuserPassword}'";
        yield return $"read-only through the VIP:  psql 'host=127.0.0.1 port={p["vip.replica"]} user=postgres password={VmLabConfig.SuperuserPassword}'";
        foreach (var d in Databases)
            yield return $"{d.Name} ({d.Address}): REST http://127.0.0.1:{p[$"{d.Name}.api"]}/patroni, PostgreSQL 127.0.0.1:{p[$"{d.Name}.pg"]}, console {_vms[d.Name].ConsolePath}";
        foreach (var b in Balancers)
            yield return $"{b.Name} ({b.Address}): status http://127.0.0.1:{p[$"{b.Name}.status"]}/status and /metrics, console {_vms[b.Name].ConsolePath}";
    }

    public async ValueTask DisposeAsync()
    {
        await _forwards.DisposeAsync();
        Probe?.Dispose();
        foreach (var vm in _vms.Values) await vm.DisposeAsync();
        await Network.DisposeAsync();
    }
}
