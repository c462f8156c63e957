using System.Net.Http;
using System.Text;
using System.Text.Json;
using Appliance.Lab.Netns;
using Tmds.Linux;

namespace Appliance.Lab.NetLab;

/// <summary>
/// Breaking the lab on purpose, each fault with its repair: a process killed or frozen, PostgreSQL
/// crashed under a live manager, a whole node down (every process and its cable), a cable pulled, a
/// partition between sets of nodes (nftables in their namespaces), etcd members lost or frozen, etcd's
/// Raft leadership moved. Everything acts on processes the lab started (by PID) or inside its namespaces.
/// </summary>
public sealed class LabFaults
{
    const string PartitionTable = "apl_partition";
    static readonly HttpClient EtcdHttp = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
    readonly NetLab _lab;
    readonly HashSet<string> _partitioned = [];

    public LabFaults(NetLab lab) => _lab = lab;

    /// <summary>Sends <paramref name="signal"/> to a service ("db1", "agent", SIGKILL); SIGKILL waits until it is gone.</summary>
    public async Task SignalAsync(string node, string service, int signal)
    {
        var s = _lab[node][service];
        if (signal == LibC.SIGKILL) await s.KillAsync();
        else s.Signal(signal);
    }

    /// <summary>Freezes a service (SIGSTOP): it holds its sockets and state but does nothing, like a hung process.</summary>
    public void Freeze(string node, string service) => _lab[node][service].Signal(LibC.SIGSTOP);

    /// <summary>Lets a frozen service run again (SIGCONT).</summary>
    public void Thaw(string node, string service) => _lab[node][service].Signal(LibC.SIGCONT);

    /// <summary>Starts a stopped or killed service again with its command line.</summary>
    public void Restart(string node, string service) => _lab[node][service].Start();

    /// <summary>Crashes PostgreSQL on a database node (SIGKILL to the postmaster), its manager left running.</summary>
    public async Task KillPostgresAsync(string node)
    {
        var n = _lab[node];
        if (n.PostmasterPid is not int pid) throw new InvalidOperationException($"no postmaster runs on {node}");
        _ = LibC.kill(pid, LibC.SIGKILL);
        for (var i = 0; i < 100 && Directory.Exists($"/proc/{pid}"); i++) await Task.Delay(50);
    }

    /// <summary>
    /// A host crash: every process in the node's namespace is killed at once (PostgreSQL's backends
    /// included) and its cable pulled, so peers see it vanish as with a power cut.
    /// </summary>
    public async Task CrashNodeAsync(string node)
    {
        var n = _lab[node];
        await _lab.Topology.SetLinkAsync(node, up: false);
        await NetnsSweeper.KillAllInAsync(n.Namespace);
        foreach (var s in n.Services) await s.KillAsync();
    }

    /// <summary>
    /// Boots a crashed node again: its interface with only its own address (a VIP it held is gone, as
    /// after a real reboot), its cable back, then its services in their order (etcd first).
    /// </summary>
    public async Task BootNodeAsync(string node)
    {
        var n = _lab[node];
        await Command.IpAsync("-n", n.Namespace, "addr", "flush", "dev", NodeSpec.Interface);
        await Command.IpAsync("-n", n.Namespace, "addr", "add", $"{n.Address}/{n.Spec.PrefixLength}", "dev", NodeSpec.Interface);
        await _lab.Topology.SetLinkAsync(node, up: true);
        foreach (var s in n.Services.Where(s => !s.IsRunning)) s.Start();
    }

    /// <summary>Pulls (<paramref name="up"/> false) or plugs back a node's cable; its processes keep running.</summary>
    public Task SetLinkAsync(string node, bool up) => _lab.Topology.SetLinkAsync(node, up);

    /// <summary>
    /// Cuts every packet between the nodes of <paramref name="side"/> and <paramref name="other"/> (both
    /// ways, multicast VRRP adverts included), leaving each side's traffic within itself and with
    /// third nodes alone. <see cref="HealAsync"/> lifts every partition.
    /// </summary>
    public async Task PartitionAsync(IReadOnlyCollection<string> side, IReadOnlyCollection<string> other)
    {
        if (side.Intersect(other).Any()) throw new ArgumentException("a node cannot be on both sides of a partition");
        foreach (var (here, there) in new[] { (side, other), (other, side) })
        {
            var addresses = string.Join(", ", there.Select(n => _lab[n].Address));
            foreach (var node in here)
            {
                // One table per node, a chain pair per call: partitions add up until healed.
                var ns = _lab[node].Namespace;
                var rules = $$"""
                    table inet {{PartitionTable}} {
                      chain input { type filter hook input priority -10; policy accept; ip saddr { {{addresses}} } drop; }
                      chain output { type filter hook output priority -10; policy accept; ip daddr { {{addresses}} } drop; }
                    }
                    """;
                (await Command.RunAsync("ip", ["netns", "exec", ns, "nft", "-f", "-"], rules)).Check();
                _partitioned.Add(node);
            }
        }
    }

    /// <summary>Lifts every partition.</summary>
    public async Task HealAsync()
    {
        foreach (var node in _partitioned)
            (await Command.RunAsync("ip", ["netns", "exec", _lab[node].Namespace, "nft", "delete", "table", "inet", PartitionTable])).Check();
        _partitioned.Clear();
    }

    /// <summary>Kills the etcd members on <paramref name="nodes"/> (SIGKILL; their data stays for a restart).</summary>
    public async Task KillEtcdAsync(params string[] nodes)
    {
        foreach (var node in nodes) await _lab[node]["etcd"].KillAsync();
    }

    /// <summary>Freezes the etcd member on <paramref name="node"/> (SIGSTOP by PID): it keeps its sockets open and answers nothing.</summary>
    public void FreezeEtcd(string node) => Freeze(node, "etcd");

    /// <summary>Lets a frozen etcd member run again (SIGCONT).</summary>
    public void ThawEtcd(string node) => Thaw(node, "etcd");

    /// <summary>
    /// The node whose etcd member is the Raft leader, as the running members' status says (etcd's JSON
    /// gateway, <c>etcdctl endpoint status</c>, through the loopback forwards); null when no member names one.
    /// </summary>
    public async Task<string?> EtcdLeaderAsync(CancellationToken ct = default)
    {
        var names = await EtcdMemberNamesAsync(ct);
        foreach (var db in _lab.Databases.Where(d => d["etcd"].IsRunning))
        {
            using var status = await EtcdPostAsync(db.Name, "/v3/maintenance/status", "{}", ct);
            if (status is not null && status.RootElement.TryGetProperty("leader", out var leader)
                && names.TryGetValue(leader.GetString() ?? "", out var name))
                return name;
        }
        return null;
    }

    /// <summary>
    /// Makes the etcd member on <paramref name="node"/> the Raft leader (<c>etcdctl move-leader</c>: a
    /// transfer asked of the current leader) and waits until the members say so.
    /// </summary>
    public async Task MoveEtcdLeaderAsync(string node, TimeSpan deadline, CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(deadline);
        var names = await EtcdMemberNamesAsync(timeout.Token);
        var target = names.Single(n => n.Value == node).Key;
        string? current;
        while ((current = await EtcdLeaderAsync(timeout.Token)) != node)
        {
            if (current is not null)
                (await EtcdPostAsync(current, "/v3/maintenance/transfer-leadership", $$"""{"targetID":"{{target}}"}""", timeout.Token))?.Dispose();
            await Task.Delay(200, timeout.Token);
        }
    }

    /// <summary>Member id (as etcd's gateway prints it, a decimal string) to name, from the first running member that answers.</summary>
    async Task<Dictionary<string, string>> EtcdMemberNamesAsync(CancellationToken ct)
    {
        foreach (var db in _lab.Databases.Where(d => d["etcd"].IsRunning))
        {
            using var list = await EtcdPostAsync(db.Name, "/v3/cluster/member/list", "{}", ct);
            if (list is null) continue;
            return list.RootElement.GetProperty("members").EnumerateArray()
                .ToDictionary(m => m.GetProperty("ID").GetString()!, m => m.GetProperty("name").GetString()!);
        }
        throw new InvalidOperationException("no etcd member answers its member list");
    }

    /// <summary>POSTs <paramref name="json"/> to etcd's JSON gateway on <paramref name="node"/>'s member; null when it does not answer.</summary>
    async Task<JsonDocument?> EtcdPostAsync(string node, string path, string json, CancellationToken ct)
    {
        try
        {
            using var body = new StringContent(json, Encoding.UTF8, "application/json");
            using var r = await EtcdHttp.PostAsync($"http://127.0.0.1:{_lab.Forwards[$"{node}.etcd"]}{path}", body, ct);
            return r.IsSuccessStatusCode ? JsonDocument.Parse(await r.Content.ReadAsStringAsync(ct)) : null;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>Starts every stopped etcd member again and waits until the cluster is healthy.</summary>
    public async Task RestoreEtcdAsync(TimeSpan deadline, CancellationToken ct = default)
    {
        foreach (var db in _lab.Databases.Where(d => !d["etcd"].IsRunning)) db["etcd"].Start();
        await _lab.WaitEtcdAsync(deadline, ct);
    }
}
