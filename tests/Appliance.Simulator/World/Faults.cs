using System.Text.Json.Nodes;
using Appliance.Cluster;

namespace Appliance.Simulator.World;

/// <summary>One fault of a schedule: what it does at its moment, and (when it lasts) what undoes it.</summary>
public sealed record Fault(TimeSpan At, TimeSpan Lasts, string What, Action<SimWorld> Begin, Action<SimWorld>? End)
{
    public override string ToString() => End is null ? $"{At.TotalSeconds:0.0}s {What}" : $"{At.TotalSeconds:0.0}s {What} for {Lasts.TotalSeconds:0.0}s";
}

/// <summary>
/// Random fault schedules from a seed: crashes, freezes (agent, PostgreSQL, an etcd member), partitions and
/// one-way loss, the etcd client port cut, slow links and disks, etcd members killed, clock steps, switchovers
/// and configuration edits, at any moment, overlapping. To add a fault: a new case in <see cref="Draw"/>.
/// </summary>
public static class Faults
{
    public static List<Fault> Schedule(Random rng, SimSettings s, IReadOnlyList<string> nodes, TimeSpan start)
    {
        var count = rng.Next(1, 5);
        var list = new List<Fault>();
        for (int i = 0; i < count; i++)
        {
            var at = start + TimeSpan.FromMilliseconds(rng.Next(0, 40_000));
            if (Draw(rng, s, nodes, at) is { } f) list.Add(f);
        }
        return [.. list.OrderBy(f => f.At)];
    }

    static TimeSpan Seconds(Random rng, double min, double max) => TimeSpan.FromMilliseconds(rng.Next((int)(min * 1000), (int)(max * 1000)));

    /// <summary>The leader at the fault's moment (most faults aim at it), else another node.</summary>
    static SimNode Target(SimWorld w, Random pick, IReadOnlyList<string> nodes)
    {
        var leader = w.Etcd.Get(w.Keys.Leader)?.Value.ToStringUtf8();
        return pick.Next(100) < 60 && leader is not null && w.Node(leader) is { } l ? l : w.Node(nodes[pick.Next(nodes.Count)])!;
    }

    static Fault? Draw(Random rng, SimSettings s, IReadOnlyList<string> nodes, TimeSpan at)
    {
        // The target is chosen when the fault strikes (who leads then), from a seed drawn now: the schedule stays a function of the seed.
        var pick = new Random(rng.Next());
        var hosts = Enumerable.Range(1, nodes.Count).Select(i => $"10.0.0.{i}").ToList();
        SimNode? t = null;
        SimNode T(SimWorld w) => t ??= Target(w, pick, nodes);
        switch (rng.Next(15))
        {
            case 0:
                var down = Seconds(rng, 1, 20);
                return new(at, down, "crash the host of the leader (or a node)", w => { w.Trace("FAULT", $"{T(w).Name}'s host crashes"); T(w).Crash(); },
                    w => { if (T(w).HostDown) { w.Trace("FAULT", $"{T(w).Name}'s host boots"); T(w).Boot(); } });
            case 1:
                // Without a watchdog a frozen agent leaves its PostgreSQL primary: only synchronous mode keeps that safe.
                if (!s.WatchdogDevice && !s.SynchronousMode) return null;
                return new(at, Seconds(rng, 0.5, 15), "freeze the agent (SIGSTOP)", w => { w.Trace("FAULT", $"{T(w).Name}'s agent frozen"); T(w).Agent?.Freeze(); },
                    w => { w.Trace("FAULT", $"{T(w).Name}'s agent thawed"); T(w).Agent?.Thaw(); });
            case 2:
                return new(at, Seconds(rng, 1, 20), "freeze every PostgreSQL process", w => { w.Trace("FAULT", $"{T(w).Name}'s PostgreSQL frozen"); if (T(w).Postgres.Running) T(w).Postgres.Frozen = true; },
                    w => { w.Trace("FAULT", $"{T(w).Name}'s PostgreSQL thawed"); T(w).Postgres.Frozen = false; });
            case 3:
                return new(at, TimeSpan.Zero, "kill the postmaster", w => { w.Trace("FAULT", $"{T(w).Name}'s postmaster killed"); T(w).Postgres.Crash(); }, null);
            case 4:
                var clientToo = rng.Next(2) == 0;
                return new(at, Seconds(rng, 1, 25), clientToo ? "isolate a host from everyone" : "isolate a host from the other database hosts (the client still reaches it)",
                    w =>
                    {
                        w.Trace("FAULT", $"{T(w).Name} isolated{(clientToo ? "" : " from the database hosts")}");
                        w.Network.Isolate(T(w).Host, clientToo ? [.. hosts, SimWorld.ClientHost] : hosts, true);
                    },
                    w =>
                    {
                        w.Trace("FAULT", $"{T(w).Name}'s partition healed");
                        w.Network.Isolate(T(w).Host, [.. hosts, SimWorld.ClientHost], false);
                    });
            case 5:
                return new(at, Seconds(rng, 1, 25), "cut the etcd client port", w => { w.Trace("FAULT", $"{T(w).Name} cut off from etcd's client port"); w.Network.CutEtcdClient(T(w).Host, true); },
                    w => { w.Trace("FAULT", $"{T(w).Name} reaches etcd's client port again"); w.Network.CutEtcdClient(T(w).Host, false); });
            case 6:
                var other = pick.Next(nodes.Count);
                var inbound = rng.Next(2) == 0;
                // The other end: any host but the target (chosen when the fault strikes).
                string Other(SimWorld w) => hosts.Where(h => h != T(w).Host).ElementAt(other % (hosts.Count - 1));
                return new(at, Seconds(rng, 1, 20), "one-way loss between two hosts", w =>
                {
                    var (from, to) = inbound ? (Other(w), T(w).Host) : (T(w).Host, Other(w));
                    w.Trace("FAULT", $"packets from {from} to {to} lost");
                    w.Network.Lose(from, to, true);
                }, w =>
                {
                    var (from, to) = inbound ? (Other(w), T(w).Host) : (T(w).Host, Other(w));
                    w.Trace("FAULT", $"packets from {from} to {to} flow again");
                    w.Network.Lose(from, to, false);
                });
            case 7:
                var extra = Seconds(rng, 0.2, 6);
                return new(at, Seconds(rng, 2, 20), $"slow links from a host (+{extra.TotalSeconds:0.0}s)", w =>
                {
                    w.Trace("FAULT", $"{T(w).Name}'s outgoing packets delayed by {extra.TotalSeconds:0.0}s");
                    foreach (var h in hosts) w.Network.Slow(T(w).Host, h, extra);
                }, w =>
                {
                    w.Trace("FAULT", $"{T(w).Name}'s links are fast again");
                    foreach (var h in hosts) w.Network.Slow(T(w).Host, h, TimeSpan.Zero);
                });
            case 8:
                var member = pick.Next(nodes.Count);
                return new(at, Seconds(rng, 1, 10), "freeze an etcd member", w => { w.Trace("FAULT", $"etcd member on {hosts[member]} frozen"); w.Etcd.Members[member].Frozen = true; },
                    w => { w.Trace("FAULT", $"etcd member on {hosts[member]} thawed"); w.Etcd.Thaw(w.Etcd.Members[member]); });
            case 9:
                var killed = pick.Next(nodes.Count);
                return new(at, Seconds(rng, 1, 20), "kill an etcd member", w => { w.Trace("FAULT", $"etcd member on {hosts[killed]} killed"); w.Etcd.Members[killed].Down = true; },
                    w => { w.Trace("FAULT", $"etcd member on {hosts[killed]} restarted"); w.Etcd.Members[killed].Down = false; });
            case 10:
                var toNamed = rng.Next(2) == 0;
                return new(at, TimeSpan.Zero, "a switchover", w =>
                {
                    var leader = w.Etcd.Get(w.Keys.Leader)?.Value.ToStringUtf8();
                    if (leader is null || !w.Etcd.Members.Any(w.Etcd.CanServe)) return;
                    var candidate = toNamed ? nodes.Where(n => n != leader).ElementAt(pick.Next(nodes.Count - 1)) : null;
                    w.Trace("FAULT", $"switchover requested from {leader}{(candidate is null ? "" : " to " + candidate)}");
                    w.Etcd.Put(w.Keys.Failover, new FailoverRequest(leader, candidate, null, 0).ToJson());
                }, null);
            case 11:
                // Without a watchdog only synchronous mode keeps a frozen agent's primary safe (case 1): not turned off then.
                if (!s.SynchronousMode || !s.WatchdogDevice) return null;
                return new(at, Seconds(rng, 2, 15), "synchronous mode off, then on (edit-config)", w => SetSync(w, false), w => SetSync(w, true));
            case 12:
                var step = TimeSpan.FromSeconds(pick.Next(-60, 60));
                return new(at, TimeSpan.Zero, "step a node's wall clock", w => { w.Trace("FAULT", $"{T(w).Name}'s clock stepped by {step.TotalSeconds:0}s"); T(w).Clock.Offset += step; }, null);
            case 13:
                // A starved agent may be too slow to demote in time: like a frozen one, fenced only by a watchdog or synchronous mode.
                if (!s.WatchdogDevice && !s.SynchronousMode) return null;
                var wait = TimeSpan.FromMilliseconds(pick.Next(20, 2000));
                return new(at, Seconds(rng, 1, 30), "starve the agent of CPU (cgroup cpu.max)", w => { w.Trace("FAULT", $"{T(w).Name}'s agent starved: each step waits {wait.TotalMilliseconds:0} ms"); if (T(w).Agent is { } a) a.Starvation = wait; },
                    w => { w.Trace("FAULT", $"{T(w).Name}'s agent has its CPU back"); if (T(w).Agent is { } a) a.Starvation = TimeSpan.Zero; });
            default:
                return new(at, Seconds(rng, 2, 20), "a slow disk", w => { w.Trace("FAULT", $"{T(w).Name}'s disk is slow"); T(w).Postgres.SlowDisk = true; },
                    w => { w.Trace("FAULT", $"{T(w).Name}'s disk is fast again"); T(w).Postgres.SlowDisk = false; });
        }
    }

    static void SetSync(SimWorld w, bool on)
    {
        if (!w.Etcd.Members.Any(w.Etcd.CanServe)) return;
        var config = w.Etcd.Get(w.Keys.Config)?.Value.ToStringUtf8() ?? "{}";
        var json = JsonNode.Parse(config)!.AsObject();
        json["synchronous_mode"] = on;
        w.Trace("FAULT", $"edit-config: synchronous_mode = {on}");
        if (!on) w.AsyncAtSomePoint = true;
        w.Etcd.Put(w.Keys.Config, json.ToJsonString());
    }
}
