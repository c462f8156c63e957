using System.Net.Http;
using Appliance.Lab.Netns;

namespace Appliance.Lab.NetLab;

/// <summary>
/// The whole appliance on one machine: the seed's topology (<see cref="LabLayout"/>) in network
/// namespaces on a private bridge, a three-member etcd on the database nodes, and the chosen
/// <see cref="ILabStack"/> on top, every program a real process with the configuration written here.
/// The demo, the scenario tests and the benchmarks all start one. Disposing it stops every process
/// (by PID, then anything left in its namespaces), deletes the namespaces and the folder; a crashed
/// harness's leftovers go at the next start (<see cref="NetnsSweeper"/>).
/// </summary>
public sealed class NetLab : IAsyncDisposable
{
    /// <summary>The etcd key prefix both stacks use (Patroni's default).</summary>
    public const string KeyNamespace = "/service";
    /// <summary>The seed's VRRPv2 PASS password (at most 8 bytes).</summary>
    public const string VrrpPassword = "lab-vrrp";

    readonly Dictionary<string, LabNode> _nodes = [];

    NetLab(NetnsTopology topology, ILabStack stack, LabProfile profile, LabBinaries binaries)
    {
        Topology = topology;
        Stack = stack;
        Profile = profile;
        Binaries = binaries;
        foreach (var spec in LabLayout.All)
        {
            var dir = topology.FilePath(spec.Name);
            Directory.CreateDirectory(dir);
            // PostgreSQL and Patroni run as postgres: they must be able to walk into the node's folder.
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
            _nodes[spec.Name] = new LabNode(spec, topology.NamespaceOf(spec.Name), dir);
        }
        OpenForwards();
        Probe = new LabProbe(Forwards.Ports, _nodes.ToDictionary(n => n.Key, n => n.Value.Namespace), SuperuserPassword);
    }

    public NetnsTopology Topology { get; }
    public ILabStack Stack { get; }
    public LabProfile Profile { get; }
    public LabBinaries Binaries { get; }
    public LabForwards Forwards { get; } = new();
    public LabProbe Probe { get; }
    public string Scope => "lab";
    public string SuperuserPassword => "lab-superuser";
    public string ReplicationPassword => "lab-replication";

    public IReadOnlyList<LabNode> Databases => LabLayout.Databases.Select(d => _nodes[d.Name]).ToList();
    public IReadOnlyList<LabNode> Balancers => LabLayout.Balancers.Select(b => _nodes[b.Name]).ToList();
    public IReadOnlyCollection<LabNode> Nodes => _nodes.Values;
    public LabNode this[string node] => _nodes.TryGetValue(node, out var n) ? n
        : throw new ArgumentException($"no node '{node}' in the lab (nodes: {string.Join(", ", _nodes.Keys)})");

    /// <summary>
    /// Creates the namespaces, starts etcd, the database nodes and the balancers, opens the loopback
    /// forwards, and waits (printing progress to <paramref name="progress"/>) until <see cref="LabHealth.IsHealthy"/>.
    /// </summary>
    public static async Task<NetLab> StartAsync(ILabStack stack, LabProfile profile, LabBinaries binaries, TextWriter progress,
        TimeSpan deadline, CancellationToken ct = default)
    {
        var topology = await NetnsTopology.CreateAsync(LabLayout.All);
        NetLab? lab = null;
        try
        {
            lab = new NetLab(topology, stack, profile, binaries);
            await progress.WriteLineAsync($"  namespaces {topology.Name.Prefix}-* on a private bridge; files in {topology.WorkDir}");
            foreach (var db in lab.Databases) lab.StartEtcd(db);
            await lab.WaitEtcdAsync(TimeSpan.FromSeconds(60), ct);
            await progress.WriteLineAsync($"  etcd: 3 members healthy ({string.Join(", ", LabLayout.EtcdEndpoints)})");
            foreach (var db in lab.Databases) stack.StartDatabase(lab, db);
            var priority = 100;
            foreach (var lb in lab.Balancers)
            {
                stack.StartBalancer(lab, lb, priority);
                priority -= 10;
            }
            await progress.WriteLineAsync($"  {stack.Name} stack started ({profile.Name} profile); waiting for a leader, two streaming replicas, one VRRP master and the VIP:");
            await lab.WaitHealthyAsync(progress, deadline, ct);
            return lab;
        }
        catch
        {
            if (lab is not null) await lab.DisposeAsync();
            else await topology.DisposeAsync();
            throw;
        }
    }

    void OpenForwards()
    {
        foreach (var db in Databases)
        {
            Forwards.Add($"{db.Name}.pg", db.Namespace, db.Spec.Address, LabLayout.PostgresPort);
            Forwards.Add($"{db.Name}.api", db.Namespace, db.Spec.Address, LabLayout.RestApiPort);
            Forwards.Add($"{db.Name}.etcd", db.Namespace, db.Spec.Address, LabLayout.EtcdClientPort);
        }
        foreach (var lb in Balancers)
            Forwards.Add($"{lb.Name}.status", lb.Namespace, lb.Spec.Address, LabLayout.BalancerStatusPort);
        var client = this[LabLayout.Client.Name];
        Forwards.Add("vip.primary", client.Namespace, LabLayout.Vip, LabLayout.PrimaryPort);
        Forwards.Add("vip.replica", client.Namespace, LabLayout.Vip, LabLayout.ReplicaPort);
    }

    void StartEtcd(LabNode db)
    {
        var peers = string.Join(",", Databases.Select(d => $"{d.Name}=http://{d.Address}:{LabLayout.EtcdPeerPort}"));
        var client = $"http://{db.Address}:{LabLayout.EtcdClientPort}";
        var peer = $"http://{db.Address}:{LabLayout.EtcdPeerPort}";
        string[] args =
        [
            "--name", db.Name, "--data-dir", Path.Combine(db.Dir, "etcd"),
            "--listen-client-urls", $"{client},http://127.0.0.1:{LabLayout.EtcdClientPort}", "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", peers, "--initial-cluster-state", "new", "--initial-cluster-token", Topology.Name.Prefix,
        ];
        db.Run("etcd", () => Topology.Start(db.Name, $"{db.Name}-etcd", EtcdProcess.Binary, args));
    }

    /// <summary>Waits until every running etcd member answers healthy (a quorum exists).</summary>
    public async Task WaitEtcdAsync(TimeSpan deadline, CancellationToken ct = default)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTimeOffset.UtcNow + deadline;
        while (true)
        {
            var running = Databases.Where(d => d["etcd"].IsRunning).ToList();
            var healthy = await Task.WhenAll(running.Select(async d =>
            {
                try { return (await http.GetStringAsync($"http://127.0.0.1:{Forwards[$"{d.Name}.etcd"]}/health", ct)).Contains("\"true\"", StringComparison.Ordinal); }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
            }));
            if (healthy.All(h => h)) return;
            if (DateTimeOffset.UtcNow > until)
                throw new TimeoutException($"etcd did not become healthy within {deadline.TotalSeconds:0}s:\n" +
                    string.Join("\n", running.Select(d => $"--- {d.Name} etcd ---\n{d["etcd"].LogTail(10)}")));
            await Task.Delay(200, ct);
        }
    }

    /// <summary>Waits until the lab is healthy, printing each change of a member, the VIP or a route.</summary>
    public async Task<LabHealth> WaitHealthyAsync(TextWriter progress, TimeSpan deadline, CancellationToken ct = default)
    {
        var started = DateTimeOffset.UtcNow;
        var shown = new HashSet<string>();
        while (true)
        {
            var health = await Probe.ReadAsync(ct);
            foreach (var line in health.ProgressLines())
            {
                if (shown.Add(line)) await progress.WriteLineAsync($"  [{(DateTimeOffset.UtcNow - started).TotalSeconds,5:0.0}s] {line}");
                shown.RemoveWhere(l => Subject(l) == Subject(line) && l != line);
            }
            if (health.IsHealthy) return health;
            if (DateTimeOffset.UtcNow - started > deadline)
                throw new TimeoutException($"the lab did not become healthy within {deadline.TotalSeconds:0}s\n{LogTails()}");
            await Task.Delay(300, ct);
        }
    }

    /// <summary>What a line of <see cref="LabHealth.Lines"/> is about ("db1", "VIP 10.231.0.140", "VIP:5000 (read-write)").</summary>
    static string Subject(string line) => line[..line.IndexOf(line.Contains(" -> ", StringComparison.Ordinal) ? " -> " : ": ", StringComparison.Ordinal)];

    /// <summary>The last lines of every service's log, for a failure message.</summary>
    public string LogTails(int lines = 12) => string.Join("\n", Nodes.SelectMany(n => n.Services)
        .Select(s => $"--- {s.Node} {s.Name} ({(s.IsRunning ? "running" : "stopped")}) ---\n{s.LogTail(lines)}"));

    public async ValueTask DisposeAsync()
    {
        // The PostgreSQL managers first, cleanly, so PostgreSQL stops with them; the topology then
        // removes whatever is left (balancers, etcd, postmasters of killed agents) and the namespaces.
        await Task.WhenAll(Databases.Where(d => d.Has(Stack.DatabaseManager))
            .Select(d => d[Stack.DatabaseManager].StopAsync(TimeSpan.FromSeconds(20))));
        await Forwards.DisposeAsync();
        Probe.Dispose();
        await Topology.DisposeAsync();
    }
}
