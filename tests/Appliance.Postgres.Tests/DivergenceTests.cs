using Appliance.Node;

namespace Appliance.Postgres.Tests;

/// <summary>The pure half of rewind: Patroni's divergence rules and the parsing of PostgreSQL's tool output.</summary>
public class DivergenceTests
{
    static long Lsn(string s) => Divergence.TryParseLsn(s, out long v) ? v : throw new FormatException(s);

    // A timeline 3 history: 1 forked to 2 at 0/3000000, 2 to 3 at 0/5000100.
    static readonly List<HistoryEntry> History = Divergence.ParseHistory(
        "1\t0/3000000\tno recovery target specified\n\n2\t0/5000100\tno recovery target specified\n");

    [Fact]
    public void Lsns_round_trip_in_postgres_format()
    {
        Assert.Equal(0x1_0000_00A0L, Lsn("1/A0"));
        Assert.Equal("1/A0", Divergence.FormatLsn(0x1_0000_00A0L));
        Assert.Equal("FFFFFFFF/FFFFFFFF", Divergence.FormatLsn(-1));
        Assert.False(Divergence.TryParseLsn("0x10", out _));
        Assert.False(Divergence.TryParseLsn("/1", out _));
    }

    [Fact]
    public void History_files_are_parsed() =>
        Assert.Equal([new HistoryEntry(1, Lsn("0/3000000")), new HistoryEntry(2, Lsn("0/5000100"))], History);

    [Theory]
    // Same timeline: whoever is behind just streams on.
    [InlineData(3, "0/9000000", false, null, RewindVerdict.NotNeeded)]
    // Local timeline newer than the source's: the source cannot serve it.
    [InlineData(4, "0/1000000", true, null, RewindVerdict.Needed)]
    // A standby on timeline 1 that replayed up to (not past) the fork.
    [InlineData(1, "0/3000000", true, null, RewindVerdict.NotNeeded)]
    [InlineData(1, "0/2000000", true, null, RewindVerdict.NotNeeded)]
    [InlineData(1, "0/3000001", true, null, RewindVerdict.Needed)]
    // A standby on timeline 2 past the second fork.
    [InlineData(2, "0/5000200", true, null, RewindVerdict.Needed)]
    // A former primary: past the fork, or its shutdown checkpoint ends exactly at it (clean switchover), or not.
    [InlineData(1, "0/3000000", false, null, RewindVerdict.Needed)]
    [InlineData(1, "0/2FFFF88", false, "0/3000000", RewindVerdict.NotNeeded)]
    [InlineData(1, "0/2FFFF88", false, "0/2FFFFF0", RewindVerdict.Needed)]
    [InlineData(1, "0/2FFFF88", false, null, RewindVerdict.Needed)]
    public void Divergence_follows_patroni(long tli, string lsn, bool inRecovery, string? checkpointEnd, RewindVerdict expected)
    {
        var check = Divergence.Decide(new WalEnd(tli, Lsn(lsn), inRecovery), 3, History, checkpointEnd is null ? null : Lsn(checkpointEnd));
        Assert.True(check.Verdict == expected, check.ToString());
        Assert.Contains($"local timeline {tli}", check.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_local_timeline_missing_from_the_history_needs_a_rewind()
    {
        // Local timeline 2 but the source's history goes 1 -> 3: timeline 2 was some other branch.
        var check = Divergence.Decide(new WalEnd(2, 100, true), 3, [new HistoryEntry(1, 50)], null);
        Assert.Equal(RewindVerdict.Needed, check.Verdict);
    }

    static Dictionary<string, string> Cd(string state, string minLsn = "0/0", int minTli = 0) => Divergence.ParseControlData($"""
        Database system identifier:           7712530053010538691
        Database cluster state:               {state}
        Latest checkpoint location:           0/17529B0
        Latest checkpoint's TimeLineID:       1
        Latest checkpoint's NextXID:          0:724
        Latest checkpoint's oldestCommitTsXid:0
        Minimum recovery ending location:     {minLsn}
        Min recovery ending loc's timeline:   {minTli}
        """);

    [Fact]
    public void Control_data_keys_end_at_the_first_colon()
    {
        var cd = Cd("shut down");
        Assert.Equal("0:724", cd["Latest checkpoint's NextXID"]);
        Assert.Equal("0", cd["Latest checkpoint's oldestCommitTsXid"]);
        Assert.True(Divergence.ShutDownCleanly(cd));
        Assert.False(Divergence.ShutDownCleanly(Cd("in production")));
    }

    [Fact]
    public void Local_end_of_wal_comes_from_the_state_pg_control_records()
    {
        Assert.Equal(new WalEnd(1, Lsn("0/17529B0"), false), Divergence.LocalEnd(Cd("shut down")));
        Assert.Equal(new WalEnd(2, Lsn("0/4000000"), true), Divergence.LocalEnd(Cd("shut down in recovery", "0/4000000", 2)));
        Assert.Equal(new WalEnd(2, Lsn("0/4000000"), true), Divergence.LocalEnd(Cd("in archive recovery", "0/4000000", 2)));
        // A standby with no minimum recovery point was a primary at its last checkpoint.
        Assert.Equal(new WalEnd(1, Lsn("0/17529B0"), false), Divergence.LocalEnd(Cd("shut down in recovery")));
        // A crashed primary: only crash recovery tells where its WAL ends.
        Assert.Null(Divergence.LocalEnd(Cd("in production")));
        Assert.Null(Divergence.LocalEnd(Cd("in crash recovery")));
    }

    [Fact]
    public void The_end_of_the_last_record_is_read_from_pg_waldump()
    {
        // PostgreSQL 15's pg_waldump -n 2 on a fresh cluster's shutdown checkpoint (stdout and stderr).
        const string output = """
            rmgr: XLOG        len (rec/tot):    114/   114, tx:          0, lsn: 0/017529B0, prev 0/01752968, desc: CHECKPOINT_SHUTDOWN redo 0/17529B0; tli 1; shutdown
            pg_waldump: error: error in WAL record at 0/17529B0: invalid record length at 0/1752A28: wanted 24, got 0
            """;
        Assert.Equal(Lsn("0/1752A28"), Divergence.ParseRecordEnd(output, Lsn("0/17529B0")));
        // Another record follows, or the error is about some other position: unknown.
        Assert.Null(Divergence.ParseRecordEnd(output.Replace("pg_waldump:", "rmgr: XLOG ...\npg_waldump:", StringComparison.Ordinal), Lsn("0/17529B0")));
        Assert.Null(Divergence.ParseRecordEnd(output, Lsn("0/1752968")));
        Assert.Null(Divergence.ParseRecordEnd("pg_waldump: error: could not find file \"000000010000000000000001\"", Lsn("0/17529B0")));
    }

    [Fact]
    public void The_failure_reason_is_pg_rewinds_last_error()
    {
        const string output = "pg_rewind: connected to server\npg_rewind: error: could not open file \"/d/pg_wal/000000010000000000000003\": No such file or directory\n";
        Assert.StartsWith("pg_rewind: error: could not open file", Divergence.FailureReason(output, 1), StringComparison.Ordinal);
        Assert.Equal("exit code 1", Divergence.FailureReason("something\n", 1));
    }
}
