using Appliance.Node;
using Appliance.TestKit;

namespace Appliance.Postgres.Tests;

/// <summary>
/// pg_rewind through the controller against real PostgreSQL 15 nodes on 127.0.0.1: a former primary that
/// wrote on after a failover rejoins the new primary's timeline without a clone.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "xunit 2 disposes test classes through IAsyncLifetime.DisposeAsync (it ignores IAsyncDisposable)")]
public sealed class RewindTests : IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    static readonly CancellationToken None = CancellationToken.None;

    readonly TempDir _dir = new("appl-rewind-test");
    readonly TestNode _a;
    readonly TestNode _b;
    readonly TestNode _c;

    public RewindTests()
    {
        _a = new TestNode(_dir.Path, "pg-a");
        _b = new TestNode(_dir.Path, "pg-b");
        _c = new TestNode(_dir.Path, "pg-c");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _c.DisposeAsync();
        await _b.DisposeAsync();
        await _a.DisposeAsync();
        _dir.Dispose();
    }

    Upstream Of(TestNode n) => new(n.Name, "127.0.0.1", n.Pg.Port);

    /// <summary>pg-a primary with table t ('common'), each of <paramref name="standbys"/> streaming from it.</summary>
    async Task PrimaryWithStandbysAsync(params TestNode[] standbys)
    {
        await _a.Controller.InitDbAsync(None);
        await _a.Controller.StartAsync(null, Deadline, None);
        await _a.Controller.CreateRolesAsync(None);
        await _a.Controller.SyncReplicationSlotsAsync(["pg-a", "pg-b", "pg-c"], None);
        await _a.ExecAsync("CREATE TABLE t (v text); INSERT INTO t VALUES ('common')");
        foreach (var s in standbys)
        {
            await s.Controller.CloneAsync("127.0.0.1", _a.Pg.Port, None);
            await s.Controller.StartAsync(Of(_a), Deadline, None);
            await Wait.UntilAsync($"{s.Name} streams from pg-a", async () =>
            {
                var st = await s.Controller.ProbeAsync(None);
                return st.IsReplica && st.Streaming;
            }, Deadline);
        }
    }

    /// <summary>A failover: pg-a stops, pg-b replays everything it had and is promoted to timeline 2, then writes.</summary>
    async Task FailOverToBAsync()
    {
        var finalLsn = (await _a.Controller.ProbeAsync(None)).WalPosition;
        await _a.Controller.StopAsync(immediate: false, TimeSpan.FromSeconds(30), None);
        await Wait.UntilAsync("pg-b replayed pg-a's shutdown checkpoint", async () =>
            (await _b.Controller.ProbeAsync(None)).ReplayLsn > finalLsn, Deadline);
        Assert.Equal(2, await _b.Controller.PromoteAsync(TimeSpan.FromSeconds(30), None));
        await _b.Controller.SyncReplicationSlotsAsync(["pg-a", "pg-b", "pg-c"], None);
        await _b.ExecAsync("INSERT INTO t VALUES ('from b')");
    }

    /// <summary>The old primary comes back as a primary for a moment and writes what nobody else has.</summary>
    async Task DivergeAAsync(bool crash)
    {
        await _a.Controller.StartAsync(null, Deadline, None);
        await _a.ExecAsync("INSERT INTO t VALUES ('diverged on a'); SELECT pg_switch_wal(); INSERT INTO t VALUES ('diverged again')");
        if (crash) await _a.KillPostmasterAsync(Deadline);
        else await _a.Controller.StopAsync(immediate: false, TimeSpan.FromSeconds(30), None);
        Assert.False((await _a.Controller.ProbeAsync(None)).PostmasterRunning);
    }

    async Task<string> RowsAsync(TestNode n) => await n.ScalarAsync<string>("SELECT string_agg(v, ',' ORDER BY v) FROM t") ?? "";

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    // Killed and rewound straight away: the crash recovery is RewindAsync's own.
    [InlineData(true, false)]
    public async Task A_diverged_former_primary_rejoins_through_pg_rewind(bool crashed, bool checkFirst)
    {
        await PrimaryWithStandbysAsync(_b);
        await FailOverToBAsync();
        await DivergeAAsync(crashed);

        if (checkFirst)
        {
            var check = await _a.Controller.CheckDivergenceAsync("127.0.0.1", _b.Pg.Port, None);
            Assert.True(check.Verdict == RewindVerdict.Needed, check.ToString());
            Assert.Contains("forked from timeline 1", check.Reason, StringComparison.Ordinal);
        }

        await using (var watch = new CommandLineWatch(TestNode.SuperPassword, TestNode.ReplPassword))
        {
            await _a.Controller.RewindAsync("127.0.0.1", _b.Pg.Port, None);
            Assert.True(watch.Seen > 0);
            Assert.Empty(watch.Leaks);
        }
        Assert.Equal(crashed, _a.Log.Lines.Any(l => l.Contains("CrashRecovery", StringComparison.Ordinal)));
        Assert.False(File.Exists(Path.Combine(_a.Pg.DataDir, "postmaster.opts")));
        // Our own managed files are back (pg_rewind had copied pg-b's, naming pg-b's port).
        Assert.Contains($"port = '{_a.Pg.Port}'", _a.ReadDataFile(ManagedFiles.ConfFileName), StringComparison.Ordinal);

        await _a.Controller.StartAsync(Of(_b), Deadline, None);
        var follower = await Wait.ForAsync("pg-a streams from pg-b on timeline 2", async () =>
        {
            var s = await _a.Controller.ProbeAsync(None);
            return s.IsReplica && s.Streaming && s.Timeline == 2 ? s : null;
        }, Deadline);
        Assert.Equal($"127.0.0.1:{_b.Pg.Port}", follower.UpstreamHostPort);
        await _b.ExecAsync("INSERT INTO t VALUES ('later on b')");
        await Wait.UntilAsync("pg-b's rows, and only them, are on pg-a", async () => await RowsAsync(_a) == "common,from b,later on b", Deadline);

        // Now it is simply a standby of pg-b.
        var after = await _a.Controller.CheckDivergenceAsync("127.0.0.1", _b.Pg.Port, None);
        Assert.True(after.Verdict == RewindVerdict.NotNeeded, after.ToString());

        // No secret in anything the controller logged, in PostgreSQL's logs, or left in a file.
        foreach (var node in new[] { _a, _b })
        {
            Assert.DoesNotContain(TestNode.SuperPassword, node.Log.All, StringComparison.Ordinal);
            Assert.DoesNotContain(TestNode.ReplPassword, node.Log.All, StringComparison.Ordinal);
            string serverLog = File.ReadAllText(node.Controller.LogFile);
            Assert.DoesNotContain(TestNode.SuperPassword, serverLog, StringComparison.Ordinal);
            Assert.DoesNotContain(TestNode.ReplPassword, serverLog, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(node.Controller.RunDir, ".secret-*"));
        }
    }

    [Fact]
    public async Task A_standby_that_only_fell_behind_needs_no_rewind()
    {
        // pg-c stops early and misses rows; pg-b gets everything and becomes the primary of timeline 2.
        await PrimaryWithStandbysAsync(_b, _c);
        await _c.Controller.StopAsync(immediate: false, TimeSpan.FromSeconds(30), None);
        await _a.ExecAsync("INSERT INTO t VALUES ('missed by c')");
        await FailOverToBAsync();

        // Stopped (pg_control: shut down in recovery), then running as a standby with no upstream.
        var stopped = await _c.Controller.CheckDivergenceAsync("127.0.0.1", _b.Pg.Port, None);
        Assert.True(stopped.Verdict == RewindVerdict.NotNeeded, stopped.ToString());
        Assert.Contains("(standby)", stopped.Reason, StringComparison.Ordinal);
        await _c.Controller.StartAsync(Of(_a), Deadline, None);
        var running = await _c.Controller.CheckDivergenceAsync("127.0.0.1", _b.Pg.Port, None);
        Assert.True(running.Verdict == RewindVerdict.NotNeeded, running.ToString());

        // And so it follows the new primary as it is.
        await _c.Controller.FollowAsync(Of(_b), Deadline, None);
        await Wait.UntilAsync("pg-c catches up on timeline 2", async () =>
        {
            var s = await _c.Controller.ProbeAsync(None);
            return s.Streaming && s.Timeline == 2 && await RowsAsync(_c) == "common,from b,missed by c";
        }, Deadline);

        // The cleanly stopped old primary of a clean switchover is not diverged either: its shutdown
        // checkpoint is exactly where timeline 2 begins.
        var oldPrimary = await _a.Controller.CheckDivergenceAsync("127.0.0.1", _b.Pg.Port, None);
        Assert.True(oldPrimary.Verdict == RewindVerdict.NotNeeded, oldPrimary.ToString());
        Assert.Contains("shutdown checkpoint ends where", oldPrimary.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rewind_without_the_wal_back_to_the_fork_fails_and_says_why()
    {
        await PrimaryWithStandbysAsync(_b);
        await FailOverToBAsync();
        long fork = await ForkPointAsync();
        await DivergeAAsync(crash: false);

        // pg_rewind reads pg-a's own WAL back from the fork to find what it changed: that segment is gone.
        string segment = Path.Combine(_a.Pg.DataDir, "pg_wal", $"00000001{(uint)(fork >> 32):X8}{(uint)(fork & 0xFFFFFFFF) >> 24:X8}");
        Assert.True(File.Exists(segment), segment);
        File.Delete(segment);

        var ex = await Assert.ThrowsAsync<PostgresControlException>(() => _a.Controller.RewindAsync("127.0.0.1", _b.Pg.Port, None));
        Assert.Contains("pg_rewind from 127.0.0.1", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Contains(Path.GetFileName(segment), StringComparison.Ordinal), ex.Message);
        Assert.DoesNotContain(TestNode.SuperPassword, ex.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_a.Pg.DataDir, "PG_VERSION")), "the data directory is left for the agent to set aside");
        Assert.Empty(Directory.GetFiles(_a.Controller.RunDir, ".secret-*"));
    }

    async Task<long> ForkPointAsync()
    {
        string history = await _b.ScalarAsync<string>("SELECT pg_read_file('pg_wal/00000002.history')") ?? "";
        return Assert.Single(Divergence.ParseHistory(history)).Switchpoint;
    }

    [Fact]
    public async Task A_rewind_from_an_unreachable_or_unrelated_source_fails_and_says_why()
    {
        await PrimaryWithStandbysAsync();
        await _a.Controller.StopAsync(immediate: false, TimeSpan.FromSeconds(30), None);
        // Another cluster, initialised on its own.
        await _c.Controller.InitDbAsync(None);
        await _c.Controller.StartAsync(null, Deadline, None);
        await _c.Controller.CreateRolesAsync(None);

        int nobody = FreePorts.Next();
        var unknown = await _a.Controller.CheckDivergenceAsync("127.0.0.1", nobody, None);
        Assert.True(unknown.Verdict == RewindVerdict.Unknown, unknown.ToString());
        var ex = await Assert.ThrowsAsync<PostgresControlException>(() => _a.Controller.RewindAsync("127.0.0.1", nobody, None));
        Assert.Contains("cannot connect to the source", ex.Message, StringComparison.Ordinal);

        var other = await _a.Controller.CheckDivergenceAsync("127.0.0.1", _c.Pg.Port, None);
        Assert.True(other.Verdict == RewindVerdict.Needed, other.ToString());
        Assert.Contains("another cluster", other.Reason, StringComparison.Ordinal);
        ex = await Assert.ThrowsAsync<PostgresControlException>(() => _a.Controller.RewindAsync("127.0.0.1", _c.Pg.Port, None));
        Assert.Contains("another cluster", ex.Message, StringComparison.Ordinal);

        // Nothing was touched: pg-a still starts as it was.
        await _a.Controller.StartAsync(null, Deadline, None);
        Assert.Equal("common", await RowsAsync(_a));
        Assert.DoesNotContain(TestNode.SuperPassword, _a.Log.All + ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TestNode.ReplPassword, _a.Log.All + ex.Message, StringComparison.Ordinal);
    }
}
