using System.Diagnostics;
using Xunit.Abstractions;

namespace Appliance.Scenario.Tests;

/// <summary>etcd loses members: one is nothing to the cluster, the majority stops writes safely until it returns.</summary>
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
