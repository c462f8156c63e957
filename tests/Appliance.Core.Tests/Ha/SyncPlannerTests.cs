using System.Collections.Immutable;
using Appliance.Cluster;
using Appliance.Ha;
using Appliance.Node;

namespace Appliance.Core.Tests.Ha;

/// <summary>The leader's synchronous-replication rules: who is picked, what PostgreSQL is told, who counts as confirmed.</summary>
public class SyncPlannerTests
{
    static readonly SyncSettings On = new() { Enabled = true };

    static Member M(string name, bool running = true, bool nosync = false, bool nofailover = false)
    {
        var tags = new Dictionary<string, JsonTagValue>();
        if (nosync) tags["nosync"] = true;
        if (nofailover) tags["nofailover"] = true;
        return new(name, new MemberData { State = running ? "running" : "stopped", Role = "replica", Tags = tags });
    }

    static ReplicationRow Row(string name, string syncState = "async", long flush = 100, int priority = 0)
        => new("replicator", name, "127.0.0.1", "streaming", syncState, priority, flush, flush);

    static ClusterSnapshot Members(params Member[] m) => new() { Members = [M("db1"), .. m] };

    [Fact] public void Picks_the_most_advanced_streaming_standby()
        => Assert.Equal<string>(["db3"], SyncPlanner.Pick(On, [Row("db2", flush: 100), Row("db3", flush: 200)], Members(M("db2"), M("db3")), "db1"));

    [Fact] public void Keeps_the_current_synchronous_standby_even_when_another_is_ahead()
        => Assert.Equal<string>(["db2"], SyncPlanner.Pick(On, [Row("db2", "sync", 100, 1), Row("db3", flush: 200)], Members(M("db2"), M("db3")), "db1"));

    [Fact] public void Skips_nosync_stopped_and_unknown_standbys_and_puts_nofailover_last()
    {
        var c = Members(M("db2", nosync: true), M("db3", running: false), M("db4", nofailover: true), M("db5"));
        var rows = new[] { Row("db2", flush: 900), Row("db3", flush: 900), Row("db4", flush: 800), Row("db5", flush: 100), Row("pg_basebackup", flush: 999) };
        Assert.Equal<string>(["db5", "db4"], SyncPlanner.Pick(On with { NodeCount = 2 }, rows, c, "db1"));
    }

    [Fact] public void Leaves_out_a_standby_lagging_more_than_maximum_lag_on_syncnode()
        => Assert.Equal<string>(["db3"], SyncPlanner.Pick(On with { NodeCount = 2, MaximumLagOnSyncNode = 50 },
            [Row("db2", flush: 100), Row("db3", flush: 200)], Members(M("db2"), M("db3")), "db1"));

    [Theory]
    [InlineData(new string[0], false, "")]
    [InlineData(new string[0], true, "*")]
    [InlineData(new[] { "db2" }, false, "db2")]
    [InlineData(new[] { "db-2", "db3" }, false, "2 (\"db-2\",db3)")]
    public void Standby_names_require_every_picked_standby(string[] names, bool strict, string expected)
        => Assert.Equal(expected, SyncPlanner.StandbyNames(names, strict));

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("db2", new[] { "db2" })]
    [InlineData("2 (\"db-2\",db3)", new[] { "db-2", "db3" })]
    [InlineData("FIRST 1 (a, \"b \"\"c\"\"\")", new[] { "a", "b \"c\"" })]
    [InlineData("*", new[] { "*" })]
    public void Parses_every_form_of_synchronous_standby_names(string ssn, string[] expected)
        => Assert.True(SyncPlanner.ParseStandbyNames(ssn).SetEquals(expected));

    [Fact] public void A_newly_named_standby_counts_only_once_walsenders_applied_the_setting_and_it_flushed_past_the_mark()
    {
        var m = SyncPlanner.Track(SyncPlanner.Mark.None, "", 100, [Row("db2")], SyncState.Empty);
        // db2 is named, but its walsender still reports priority 0: no mark yet.
        m = SyncPlanner.Track(m, "db2", 150, [Row("db2", "async", 120, 0)], SyncState.Empty);
        Assert.Null(m.Lsn);
        m = SyncPlanner.Track(m, "db2", 200, [Row("db2", "sync", 190, 1)], SyncState.Empty);
        Assert.Equal(200, m.Lsn);
        Assert.Empty(SyncPlanner.Confirmed(["db2"], m, [Row("db2", "sync", 190, 1)]));
        m = SyncPlanner.Track(m, "db2", 260, [Row("db2", "sync", 200, 1)], SyncState.Empty);
        Assert.Equal<string>(["db2"], SyncPlanner.Confirmed(["db2"], m, [Row("db2", "sync", 200, 1)]));
    }

    [Fact] public void A_standby_the_sync_key_already_names_is_ready_at_once()
    {
        var key = SyncState.Parse("""{"leader":"db1","sync_standby":"db2"}""", 5);
        var m = SyncPlanner.Track(SyncPlanner.Mark.None, "db2", 500, [Row("db2", "sync", 100, 1)], key);
        Assert.Equal<string>(["db2"], SyncPlanner.Confirmed(["db2"], m, [Row("db2", "sync", 100, 1)]));
    }

    [Fact] public void A_standby_that_is_not_reported_sync_is_not_confirmed()
    {
        var key = SyncState.Parse("""{"leader":"db1","sync_standby":"db2"}""", 5);
        var m = SyncPlanner.Track(SyncPlanner.Mark.None, "db2", 500, [Row("db2", "sync", 100, 1)], key);
        Assert.Empty(SyncPlanner.Confirmed(["db2"], m, [Row("db2", "potential", 100, 1)]));
    }

    [Fact] public void A_restarted_primary_requires_what_the_key_names_for_it()
    {
        var key = SyncState.Parse("""{"leader":"db1","sync_standby":"db2,db3"}""", 5);
        Assert.Equal("2 (db2,db3)", SyncPlanner.StandbyNamesAtStart(On, key, "db1"));
        Assert.Equal("", SyncPlanner.StandbyNamesAtStart(On, key, "db9"));
        Assert.Equal("*", SyncPlanner.StandbyNamesAtStart(On with { Strict = true }, SyncState.Empty, "db1"));
        Assert.Equal("", SyncPlanner.StandbyNamesAtStart(SyncSettings.Off, key, "db1"));
    }
}
