using Appliance.Simulator;
using Appliance.Simulator.World;
using Xunit.Abstractions;

namespace Appliance.Simulator.Tests;

/// <summary>Sequences that broke a promise in the lab, replayed on the simulator, kept so they stay fixed.</summary>
public sealed class ReproductionTests(ITestOutputHelper output)
{
    /// <summary>
    /// The lab's 54 lost rows (synchronous mode, no watchdog): the primary's agent frozen; its synchronous standby
    /// takes over and acknowledges writes; the third node cut off from etcd's client port; the new leader's host
    /// crashes; the old primary's agent thaws and finds the key free while its PostgreSQL still runs on timeline 1.
    /// Before the fix the simulator found what the lab found: 69 acknowledged commits lost when it took the key back.
    /// </summary>
    [Fact]
    public void A_thawed_former_primary_does_not_lead_again_on_its_old_timeline()
    {
        string? first = null, second = null, third = null;
        var r = Simulation.Run(new SimSettings { SynchronousMode = true, WatchdogDevice = false }, start =>
        [
            new(start, TimeSpan.FromSeconds(30), "freeze the primary's agent", w =>
            {
                first = w.Etcd.Get(w.Keys.Leader)!.Value.ToStringUtf8();
                w.Trace("FAULT", $"{first}'s agent frozen");
                w.Node(first)!.Agent!.Freeze();
            }, w =>
            {
                w.Trace("FAULT", $"{first}'s agent thawed");
                w.Node(first!)!.Agent!.Thaw();
            }),
            new(start + TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(60), "cut the third node off etcd's client port", w =>
            {
                second = w.Etcd.Get(w.Keys.Leader)?.Value.ToStringUtf8();
                third = w.Nodes.Select(n => n.Name).First(n => n != first && n != second);
                w.Trace("FAULT", $"{third} cut off from etcd's client port (the leader is {second})");
                w.Network.CutEtcdClient(w.Node(third)!.Host, true);
            }, w => w.Network.CutEtcdClient(w.Node(third!)!.Host, false)),
            new(start + TimeSpan.FromSeconds(17), TimeSpan.FromSeconds(60), "crash the new leader's host", w =>
            {
                w.Trace("FAULT", $"{second}'s host crashes");
                if (second is not null && second != first) w.Node(second)!.Crash();
            }, w => { if (second is not null && w.Node(second)!.HostDown) w.Node(second)!.Boot(); }),
        ]);
        output.WriteLine(r.Describe());
        Assert.NotEqual(first, second);
        Assert.True(r.Violation is null || r.Violation.Contains("no leader took writes", StringComparison.Ordinal) || r.Violation.Contains("rejoined", StringComparison.Ordinal),
            r.Describe() + "\n" + r.Trace);
    }

    /// <summary>
    /// Two replicas that cannot see each other both race for the free key; the loser had armed its watchdog to
    /// lead and, a replica now, never fed it: the device reset a healthy standby ttl - safety_margin later.
    /// </summary>
    [Fact]
    public void A_replica_that_lost_the_leader_race_is_not_reset_by_its_watchdog()
    {
        string? first = null;
        var r = Simulation.Run(new SimSettings { SynchronousMode = false }, start =>
        [
            new(start, TimeSpan.FromSeconds(40), "cut the replicas off each other's REST API, crash the primary", w =>
            {
                first = w.Etcd.Get(w.Keys.Leader)!.Value.ToStringUtf8();
                var others = w.Nodes.Where(n => n.Name != first).ToArray();
                w.Trace("FAULT", $"{others[0].Name} and {others[1].Name} cut off each other; {first}'s host crashes");
                w.Network.CutApi(others[0].Host, others[1].Host, true);
                w.Node(first)!.Crash();
            }, w =>
            {
                var others = w.Nodes.Where(n => n.Name != first).ToArray();
                w.Network.CutApi(others[0].Host, others[1].Host, false);
                w.Node(first!)!.Boot();
            }),
        ]);
        output.WriteLine(r.Describe());
        Assert.True(r.Trace.Contains("another node won the leader race", StringComparison.Ordinal), r.Trace);
        Assert.False(r.Trace.Contains("watchdog of", StringComparison.Ordinal), r.Trace);
    }
}
