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

    /// <summary>
    /// The leader's agent starved of CPU (each of its steps waits <paramref name="stepMs"/> ms, as under a cgroup
    /// cpu.max throttle): it must renew, or stop taking writes before its lease ends, never after. A sweep of 50 ms to
    /// 2 s per step, starting at three phases of the loop, in both modes, found no violation: the cycle's deadline
    /// and the watchdog are starved alike, so a late renewal is never fed beyond the lease (the suspicion refuted for
    /// this model); a 3 s step leaves the loop too slow to renew, and the watchdog resets the host.
    /// </summary>
    [Theory]
    [InlineData(300, true)]
    [InlineData(700, false)]
    [InlineData(3000, false)]
    public void A_leader_starved_of_CPU_never_takes_writes_beyond_its_lease(int stepMs, bool synchronous)
    {
        string? first = null;
        var r = Simulation.Run(new SimSettings { SynchronousMode = synchronous }, start =>
        [
            new(start, TimeSpan.FromSeconds(40), "starve the leader's agent", w =>
            {
                first = w.Etcd.Get(w.Keys.Leader)!.Value.ToStringUtf8();
                w.Trace("FAULT", $"{first}'s agent starved: each step waits {stepMs} ms");
                w.Node(first)!.Agent!.Starvation = TimeSpan.FromMilliseconds(stepMs);
            }, w =>
            {
                w.Trace("FAULT", $"{first}'s agent fed again");
                w.Node(first!)!.Agent!.Starvation = TimeSpan.Zero;
            }),
        ]);
        output.WriteLine(r.Describe());
        Assert.True(r.Violation is null, r.Describe() + "\n" + r.Trace);
    }

    /// <summary>
    /// Simulator seed 1738 (asynchronous, no watchdog): the leader's PostgreSQL frozen, then its etcd client port cut.
    /// Cycles slowed by the unanswered probe left the last renewal 8 s back when the demotion began, and a frozen
    /// postmaster waits out the fast and immediate shutdowns: it was still running, and took writes when it thawed,
    /// after a replica had promoted on the expired lease. The lease deadline now kills it a second before the lease can end.
    /// </summary>
    [Fact]
    public void A_frozen_primary_is_stopped_before_its_lease_can_end()
    {
        string? first = null;
        var r = Simulation.Run(new SimSettings { SynchronousMode = false, WatchdogDevice = false }, start =>
        [
            new(start, TimeSpan.FromSeconds(15), "freeze the leader's PostgreSQL", w =>
            {
                first = w.Etcd.Get(w.Keys.Leader)!.Value.ToStringUtf8();
                w.Trace("FAULT", $"{first}'s PostgreSQL frozen");
                w.Node(first)!.Postgres.Frozen = true;
            }, w => w.Node(first!)!.Postgres.Frozen = false),
            new(start + TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(16), "cut the leader off etcd's client port", w =>
            {
                w.Trace("FAULT", $"{first} cut off from etcd's client port");
                w.Network.CutEtcdClient(w.Node(first!)!.Host, true);
            }, w => w.Network.CutEtcdClient(w.Node(first!)!.Host, false)),
        ]);
        output.WriteLine(r.Describe());
        Assert.True(r.Violation is null, r.Describe() + "\n" + r.Trace);
    }

    /// <summary>
    /// A leader cut off from etcd demotes, then its agent freezes: it is fenced and nobody writes beside it. (Seed 741
    /// of the 14-fault schedules found a restart in place as primary that never re-armed the watchdog; the fault
    /// table has changed since, and this script does not reach that restart: the production profile's watchdog,
    /// ttl - safety_margin = 5 s, fires 4 ms into the demotion, see the closing note.)
    /// </summary>
    [Fact]
    public void A_leader_cut_off_from_etcd_then_frozen_is_fenced()
    {
        string? first = null;
        var r = Simulation.Run(new SimSettings { SynchronousMode = false }, start =>
        [
            new(start, TimeSpan.FromSeconds(5), "cut the leader off etcd's client port", w =>
            {
                first = w.Etcd.Get(w.Keys.Leader)!.Value.ToStringUtf8();
                w.Trace("FAULT", $"{first} cut off from etcd's client port");
                w.Network.CutEtcdClient(w.Node(first)!.Host, true);
            }, w => w.Network.CutEtcdClient(w.Node(first!)!.Host, false)),
            new(start + TimeSpan.FromSeconds(6.5), TimeSpan.FromSeconds(20), "freeze the leader's agent", w =>
            {
                w.Trace("FAULT", $"{first}'s agent frozen");
                w.Node(first!)!.Agent!.Freeze();
            }, w => w.Node(first!)!.Agent?.Thaw()),
        ]);
        output.WriteLine(r.Describe());
        Assert.True(r.Violation is null, r.Describe() + "\n" + r.Trace);
        Assert.True(r.Trace.Contains($"watchdog of {first} fired", StringComparison.Ordinal), r.Trace);
    }
}
