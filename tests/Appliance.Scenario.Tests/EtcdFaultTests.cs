using System.Diagnostics;
using Appliance.Lab.NetLab;
using Xunit.Abstractions;

namespace Appliance.Scenario.Tests;

/// <summary>
/// etcd loses members: one (dead or frozen, the Raft leader too) is nothing to the cluster, the majority
/// stops writes safely until it returns.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class EtcdFaultTests(LabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task Losing_one_etcd_member_changes_nothing()
    {
        await using var run = await ScenarioRun.StartAsync(lab, "one etcd member lost", output);
        var leader = run.Leader;
        run.Fault($"the etcd member on {leader} (the leader's own) gets SIGKILL");
        await run.Faults.KillEtcdAsync(leader);
        // An observation window, not a wait: for two leases no other node may lead or take the route.
        // A read that gets no answer (a probe timing out on this 2-core machine) is not a change.
        var window = TimeSpan.FromSeconds(2 * run.Lab.Profile.Ttl);
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < window)
        {
            var h = await run.Lab.Probe.ReadAsync();
            Assert.True((h.Leader ?? leader) == leader && (h.Primary?.Node ?? leader) == leader,
                $"the cluster changed after losing one etcd member:\n  {string.Join("\n  ", h.Lines())}");
            await Task.Delay(500);
        }
        await run.WaitAsync($"{leader} still leads and takes writes through the VIP", h => h.Leader == leader && h.Primary?.Node == leader);
        run.Measure($"leader {leader} kept the leadership and the route for {window.TotalSeconds:0} s");
        await run.Faults.RestoreEtcdAsync(ScenarioRun.Deadline);
        var result = await run.FinishAsync();
        Assert.True(result.Serving.Select(s => s.Server).Distinct().Count() == 1, $"writes moved between nodes: {string.Join(", ", result.Serving)}");
    }

    /// <summary>How long a frozen etcd member stays frozen: nearly a lease (ttl 10 in the production profile).</summary>
    static readonly TimeSpan FreezeFor = TimeSpan.FromSeconds(8);

    [Fact]
    public Task An_etcd_member_frozen_8_s_on_the_primarys_node_changes_nothing() => FrozenEtcdMemberAsync(raftLeader: false);

    [Fact]
    public Task The_etcd_raft_leader_frozen_8_s_on_another_node_changes_nothing() => FrozenEtcdMemberAsync(raftLeader: true);

    /// <summary>
    /// A gray failure: one etcd member SIGSTOPped for <see cref="FreezeFor"/>, its TCP connections open and
    /// silent, while a majority answers. Invariant 5: the primary keeps the lease and the route, and the
    /// workload through the VIP sees no failed operation. With <paramref name="raftLeader"/> false the
    /// frozen member is the one on the primary's node (a follower: the Raft leader is moved away first
    /// if it is there); with true it is the Raft leader, on another node (moved there first if needed),
    /// so every write in the cluster waits until the followers elect a new leader.
    /// </summary>
    async Task FrozenEtcdMemberAsync(bool raftLeader)
    {
        var name = raftLeader ? "etcd raft leader frozen" : "etcd member on the primary frozen";
        await using var run = await ScenarioRun.StartAsync(lab, name, output);
        var leader = run.Leader;
        var other = run.Lab.Databases.Select(d => d.Name).First(n => n != leader);
        var etcdLeader = await run.Faults.EtcdLeaderAsync();
        if (etcdLeader is null || etcdLeader == leader)
        {
            output.WriteLine($"scenario {name}: moving etcd's Raft leadership from {etcdLeader ?? "nobody"} to {other}");
            await run.Faults.MoveEtcdLeaderAsync(other, ScenarioRun.Deadline);
            etcdLeader = other;
            await run.WaitAsync($"{leader} still leads after the etcd leadership moved", h => h.Leader == leader && h.Primary?.Node == leader);
        }
        var frozen = raftLeader ? etcdLeader : leader;

        run.Fault($"the etcd member on {frozen} ({(raftLeader ? "the Raft leader" : $"a follower; the Raft leader is on {etcdLeader}")}) gets SIGSTOP for {FreezeFor.TotalSeconds:0} s; the primary is {leader}");
        // Watched while frozen and for a lease after the thaw (a renewal that failed during the freeze
        // would show as a demotion up to a lease later). A probe that gets no answer is not a change.
        var changes = new List<string>();
        using var observing = new CancellationTokenSource();
        var observer = ObserveAsync(run, leader, changes, observing.Token);
        run.Faults.FreezeEtcd(frozen);
        try
        {
            await Task.Delay(FreezeFor);
        }
        finally
        {
            run.Faults.ThawEtcd(frozen);
        }
        run.Measure($"the etcd member on {frozen} thawed (SIGCONT)");
        await Task.Delay(TimeSpan.FromSeconds(run.Lab.Profile.Ttl));
        await observing.CancelAsync();
        var log = await observer;
        run.Measure($"observation ended: {changes.Count} change(s) seen");
        await run.Lab.WaitEtcdAsync(ScenarioRun.Deadline);

        var result = await run.FinishAsync();
        var failed = result.Inserts.Failed + result.Transfers.Failed;
        var indeterminate = result.Inserts.Indeterminate + result.Transfers.Indeterminate;
        output.WriteLine($"scenario {name}: write gap {result.LongestWriteGap?.Duration.TotalSeconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) ?? "none"} s, " +
            $"{failed} failed and {indeterminate} indeterminate client operation(s), {changes.Count} change(s) of the primary or its route");
        Assert.True(changes.Count == 0, $"the primary changed while one etcd member was frozen:\n  {string.Join("\n  ", changes)}\n{leader}'s log then:\n{log}");
        Assert.True(failed == 0 && indeterminate == 0, $"{failed} failed and {indeterminate} indeterminate client operation(s):\n{result.Summary}");
        Assert.True(result.Serving.Count == 1, $"writes did not stay on one node and timeline: {string.Join(", ", result.Serving)}");
    }

    /// <summary>
    /// Records every look at the lab in which the primary <paramref name="leader"/> no longer leads or no
    /// longer has the route; returns the primary's log as it was at the first such look.
    /// </summary>
    static async Task<string?> ObserveAsync(ScenarioRun run, string leader, List<string> changes, CancellationToken stop)
    {
        string? log = null;
        while (!stop.IsCancellationRequested)
        {
            LabHealth h;
            try { h = await run.Lab.Probe.ReadAsync(stop); }
            catch (OperationCanceledException) { break; }
            var primary = h.Members.Single(m => m.Name == leader);
            var demoted = primary.Answers && !(primary.State == "running" && primary.Role == "master");
            var usurper = h.Members.FirstOrDefault(m => m.Name != leader && m.Answers && m.Role == "master");
            if (demoted || usurper is not null || h.Primary is { } p && (p.Node != leader || !p.ReadWrite))
            {
                changes.Add($"after {run.Measure("a change").TotalSeconds:0.00} s: {string.Join("; ", h.Lines())}");
                // Why, in the primary's own words, while it is fresh.
                log ??= run.Lab[leader][run.Lab.Stack.DatabaseManager].LogTail(25);
            }
            try { await Task.Delay(250, stop); }
            catch (OperationCanceledException) { break; }
        }
        return log;
    }

    [Fact]
    public async Task Losing_the_etcd_majority_demotes_the_primary_and_the_cluster_recovers_when_etcd_returns()
    {
        await using var run = await ScenarioRun.StartAsync(lab, "etcd majority lost", output);
        var leader = run.Leader;
        var lost = run.Lab.Databases.Select(d => d.Name).Where(n => n != leader).ToArray();
        run.Fault($"the etcd members on {string.Join(" and ", lost)} get SIGKILL (no quorum)");
        await run.Faults.KillEtcdAsync(lost);
        await run.WaitAsync("no node accepts writes", h => h.Members.All(m => m.Role != "master") && h.Primary is not { ReadWrite: true });
        await run.Faults.RestoreEtcdAsync(ScenarioRun.Deadline);
        await run.WaitAsync("a leader takes writes through the VIP again", h => h.Leader is { } l && h.Primary?.Node == l);
        await run.WaitAckedAsync("writes acknowledged again");
        await run.FinishAsync();
    }
}
