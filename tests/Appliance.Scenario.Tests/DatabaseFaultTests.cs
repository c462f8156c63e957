using Tmds.Linux;
using Xunit.Abstractions;

namespace Appliance.Scenario.Tests;

/// <summary>The primary's node fails in each way DESIGN.md lists; writes move to a replica and nothing acknowledged is lost.</summary>
[Collection(LabCollection.Name)]
public sealed class DatabaseFaultTests(LabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task Primary_host_crash_moves_writes_to_a_replica_and_the_old_primary_rejoins()
    {
        await using var run = await ScenarioRun.StartAsync(lab, "primary host crash", output);
        var old = run.Leader;
        run.Fault($"{old} crashes (every process killed, cable pulled)");
        await run.Faults.CrashNodeAsync(old);
        await run.WaitAsync("a new leader takes writes through the VIP", h => h.Leader is { } l && l != old && h.Primary?.Node == l);
        await run.WaitAckedAsync("writes acknowledged again");
        await run.Faults.BootNodeAsync(old);
        await run.FinishAsync();
    }

    [Fact]
    public async Task Primary_postgres_crash_with_the_agent_alive_recovers_without_loss()
    {
        await using var run = await ScenarioRun.StartAsync(lab, "primary PostgreSQL crash", output);
        var old = run.Leader;
        run.Fault($"{old}'s postmaster gets SIGKILL; its {run.Lab.Stack.DatabaseManager} runs on");
        await run.Faults.KillPostgresAsync(old);
        // Restarting PostgreSQL in place and failing over are both correct; writes must come back either way.
        await run.WaitAsync("a primary takes writes through the VIP again", h => h.Leader is { } l && h.Primary?.Node == l);
        await run.WaitAckedAsync("writes acknowledged again");
        await run.FinishAsync();
    }

    /// <summary>
    /// A hung manager: it holds the leader key but stops renewing it. In a namespace there is no watchdog
    /// device; on the appliance the agent arms /dev/watchdog with ttl − safety_margin before it leads
    /// and feeds it only after each renewal, so a frozen agent's node is reset before the lease expires
    /// and the old primary cannot take a write once a replica may be promoted. Here the proxy's routing
    /// (the leader key) and synchronous replication keep the old primary's writes from being
    /// acknowledged; the checker proves it.
    /// </summary>
    [Fact]
    public async Task Frozen_manager_loses_the_leadership_and_its_node_never_acknowledges_a_write_after()
    {
        await using var run = await ScenarioRun.StartAsync(lab, "manager frozen while primary", output);
        var old = run.Leader;
        var manager = run.Lab.Stack.DatabaseManager;
        run.Fault($"{old}'s {manager} gets SIGSTOP");
        run.Faults.Freeze(old, manager);
        await run.WaitAsync("a new leader takes writes through the VIP", h => h.Leader is { } l && l != old && h.Primary?.Node == l);
        await run.WaitAckedAsync("writes acknowledged again");
        run.Faults.Thaw(old, manager);
        await run.WaitAsync($"{old} no longer claims to be primary", h => h.Members.Single(m => m.Name == old) is { Answers: true } m && m.Role != "master");
        await run.FinishAsync();
    }

    [Fact]
    public async Task Primary_isolated_from_etcd_and_the_other_nodes_demotes_and_a_replica_takes_over()
    {
        await using var run = await ScenarioRun.StartAsync(lab, "primary isolated", output);
        var old = run.Leader;
        var others = run.Lab.Databases.Select(d => d.Name).Where(n => n != old).ToList();
        run.Fault($"{old} cut off from {string.Join(" and ", others)} (the etcd majority); the balancers still reach it");
        await run.Faults.PartitionAsync([old], others);
        await run.WaitAsync("a new leader takes writes through the VIP", h => h.Leader is { } l && l != old && h.Primary?.Node == l);
        await run.WaitAckedAsync("writes acknowledged again");
        await run.WaitAsync($"{old} demoted itself", h => h.Members.Single(m => m.Name == old) is { Answers: true } m && m.Role != "master");
        await run.Faults.HealAsync();
        await run.FinishAsync();
    }
}
