using System.Diagnostics;
using Appliance.Lab;
using Appliance.TestKit;
using Tmds.Linux;

namespace Appliance.Cluster.Tests;

/// <summary>
/// Runbooks with deadlines, each on a cluster of its own (ttl 10, loop_wait 2, retry_timeout 4).
/// Deadlines are generous; what is asserted is who is primary, who follows whom, and that two
/// nodes never take writes at once.
/// </summary>
public sealed class FailoverTests
{
    static readonly TimeSpan Failover = TimeSpan.FromSeconds(90);
    static readonly TimeSpan Rejoin = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task Leader_crash_promotes_a_replica_the_other_follows_and_the_old_node_rejoins_on_the_new_timeline()
    {
        await using var c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("crash"));
        var old = await c.WaitForPrimaryAsync("a primary", Failover);
        await c.ExecAsync(old.Name, "CREATE TABLE before_crash(v int); INSERT INTO before_crash VALUES (42)");

        c.SignalAgent(old.Name, LibC.SIGKILL);
        c.KillPostgres(old.Name, LibC.SIGKILL);

        var promoted = await c.WaitForPrimaryAsync("a replica is promoted", Failover, p => p != old);
        Assert.Equal(2, await TimelineAsync(c, promoted.Name));
        var third = c.Members.Single(m => m != old && m != promoted);
        await Wait.UntilAsync($"{third.Name} streams from {promoted.Name}",
            async () => await StreamsFromAsync(c, promoted.Name, third.Name), Failover);
        Assert.Equal(42, await c.ScalarAsync<int>(promoted.Name, "SELECT v FROM before_crash"));

        c.StartAgent(old.Name);
        await Wait.UntilAsync($"{old.Name} rejoins as a replica of {promoted.Name}",
            async () => await StreamsFromAsync(c, promoted.Name, old.Name), Rejoin);
        Assert.True(await c.ScalarAsync<bool>(old.Name, "SELECT pg_is_in_recovery()"));
        Assert.Equal(await TimelineAsync(c, promoted.Name), await TimelineAsync(c, old.Name));
        Assert.Equal(promoted, await c.PrimaryAsync());
    }

    [Fact]
    public async Task A_crashed_postgres_on_the_leader_is_restarted_in_place_while_the_key_is_held()
    {
        await using var c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("pgcrash"));
        var leader = await c.WaitForPrimaryAsync("a primary", Failover);
        var before = leader.PostmasterPid;

        c.KillPostgres(leader.Name, LibC.SIGKILL);

        await Wait.UntilAsync($"{leader.Name}'s PostgreSQL runs again with a new postmaster",
            () => leader.PostmasterPid is int pid && pid != before, Failover);
        var after = await c.WaitForPrimaryAsync($"{leader.Name} is the primary again", Failover);
        Assert.Equal(leader, after);
        // Still timeline 1: restarted in place, no failover (queried once crash recovery lets clients in).
        await Wait.UntilAsync($"{leader.Name} answers queries on timeline 1", async () => await TimelineAsync(c, leader.Name) == 1, Failover);
        Assert.True(await c.AcceptsWritesAsync(leader.Name));
    }

    [Fact]
    public async Task A_restarted_leader_agent_takes_its_own_key_over_without_a_failover()
    {
        await using var c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("restart"));
        var leader = await c.WaitForPrimaryAsync("a primary", Failover);
        var postmaster = leader.PostmasterPid;

        c.SignalAgent(leader.Name, LibC.SIGKILL);
        Assert.True(await leader.Agent!.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        c.StartAgent(leader.Name);

        await Wait.UntilAsync($"{leader.Name}'s new agent takes over its own leader key",
            () => File.ReadAllText(leader.AgentLog).Contains("took over our own leader key", StringComparison.Ordinal), Failover);
        Assert.Equal(leader, await c.WaitForPrimaryAsync($"{leader.Name} is still the primary", Failover));
        Assert.Equal(postmaster, leader.PostmasterPid);
        Assert.Equal(1, await TimelineAsync(c, leader.Name));
        Assert.Equal(leader.Name, await LeaderKeyAsync(c));
    }

    [Fact]
    public async Task Clean_stop_of_the_leader_agent_releases_the_key_at_once()
    {
        await using var c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("clean"));
        var old = await c.WaitForPrimaryAsync("a primary", Failover);

        c.SignalAgent(old.Name, LibC.SIGTERM);
        Assert.True(await old.Agent!.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the agent exits on SIGTERM");

        // With the lease still alive for up to ttl, only a release can have removed our name already.
        Assert.NotEqual(old.Name, await LeaderKeyAsync(c));
        Assert.Null(old.PostmasterPid);
        var promoted = await c.WaitForPrimaryAsync("a replica takes over", Failover, p => p != old);
        Assert.NotEqual(old, promoted);
    }

    [Fact]
    public async Task Leader_cut_off_from_etcd_stops_taking_writes_and_follows_the_new_leader_after_healing()
    {
        var options = ClusterFactory.Options("cut") with { RelayEtcd = true };
        await using var c = await ClusterFactory.StartHealthyAsync(options);
        var old = await c.WaitForPrimaryAsync("a primary", Failover);

        using var watch = new SplitBrainWatch(c);
        var cutAt = Stopwatch.StartNew();
        old.EtcdRelay!.Cut();

        await Wait.UntilAsync($"{old.Name} stops accepting writes", async () => !await c.AcceptsWritesAsync(old.Name),
            TimeSpan.FromSeconds(options.Ttl + options.LoopWait));
        var demotedAfter = cutAt.Elapsed;
        var promoted = await c.WaitForPrimaryAsync("another node is promoted", Failover, p => p != old);
        Assert.True(demotedAfter < TimeSpan.FromSeconds(options.Ttl + options.LoopWait), $"demoted after {demotedAfter}");

        old.EtcdRelay.Heal();
        await Wait.UntilAsync($"{old.Name} follows {promoted.Name} after the partition heals",
            async () => await StreamsFromAsync(c, promoted.Name, old.Name), Rejoin);
        Assert.Equal(promoted.Name, await LeaderKeyAsync(c));
        Assert.Equal(0, watch.Stop());
    }

    static async Task<long> TimelineAsync(LocalCluster c, string member)
        => await c.ScalarAsync<int>(member, "SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver) ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END");

    static async Task<bool> StreamsFromAsync(LocalCluster c, string primary, string replica)
        => await c.ScalarAsync<long>(primary, $"SELECT count(*) FROM pg_stat_replication WHERE application_name = '{replica}' AND state = 'streaming'") == 1;

    /// <summary>The leader key's value, read with etcdctl.</summary>
    static async Task<string> LeaderKeyAsync(LocalCluster c)
    {
        var r = await Cli.RunAsync("etcdctl", [$"--endpoints={c.Etcd.Endpoint}", "get", $"{c.Options.Namespace}/{c.Options.Scope}/leader", "--print-value-only"],
            new Dictionary<string, string?> { ["ETCDCTL_API"] = "3" });
        Assert.Equal(0, r.ExitCode);
        var value = r.Output;
        return value.Trim();
    }
}
