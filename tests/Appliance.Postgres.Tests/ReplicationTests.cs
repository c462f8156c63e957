using Appliance.Node;
using Appliance.TestKit;

namespace Appliance.Postgres.Tests;

/// <summary>A real PostgreSQL 15 primary and standby on 127.0.0.1, driven only through the controller.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "xunit 2 disposes test classes through IAsyncLifetime.DisposeAsync (it ignores IAsyncDisposable)")]
public sealed class ReplicationTests : IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    static readonly CancellationToken None = CancellationToken.None;

    readonly TempDir _dir = new("appl-postgres-test");
    readonly TestNode _a;
    readonly TestNode _b;

    public ReplicationTests()
    {
        _a = new TestNode(_dir.Path, "pg-a");
        _b = new TestNode(_dir.Path, "pg-b");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Primary_clone_standby_stream_slots_then_switchover()
    {
        // A new cluster: initdb, start as primary, roles.
        var before = await _a.Controller.ProbeAsync(None);
        Assert.False(before.DataDirInitialized);
        await _a.Controller.InitDbAsync(None);
        var stopped = await _a.Controller.ProbeAsync(None);
        Assert.True(stopped.DataDirInitialized);
        Assert.False(stopped.PostmasterRunning);
        Assert.NotNull(stopped.SystemId);
        Assert.Equal("0700", Convert.ToString((int)File.GetUnixFileMode(_a.Pg.DataDir), 8).PadLeft(4, '0'));

        await _a.Controller.StartAsync(null, Deadline, None);
        await _a.Controller.CreateRolesAsync(None);
        var primary = await _a.Controller.ProbeAsync(None);
        Assert.True(primary.IsPrimary, primary.ToString());
        Assert.Equal(1, primary.Timeline);
        Assert.True(primary.WalPosition > 0);
        Assert.True(primary.ServerVersion >= 150000);
        Assert.NotNull(primary.PostmasterStartTime);
        Assert.Equal(stopped.SystemId, primary.SystemId);
        Assert.Equal("on", await _a.ScalarAsync<string>("SELECT current_setting('data_checksums')"));

        // Slots: one per other member, normalised; never one for itself.
        await _a.Controller.SyncReplicationSlotsAsync(["pg-a", "pg-b", "Other.Node"], None);
        Assert.Equal("other_node,pg_b", await _a.ScalarAsync<string>("SELECT string_agg(slot_name, ',' ORDER BY slot_name) FROM pg_replication_slots"));

        // Clone and start a standby streaming from it.
        await _b.Controller.CloneAsync("127.0.0.1", _a.Pg.Port, None);
        await _b.Controller.StartAsync(new Upstream("pg-a", "127.0.0.1", _a.Pg.Port), Deadline, None);
        Assert.True(File.Exists(Path.Combine(_b.Pg.DataDir, "standby.signal")));
        var replica = await Wait.ForAsync("pg-b streams from pg-a", async () =>
        {
            var s = await _b.Controller.ProbeAsync(None);
            return s.IsReplica && s.Streaming ? s : null;
        }, Deadline);
        Assert.Equal($"127.0.0.1:{_a.Pg.Port}", replica.UpstreamHostPort);
        Assert.Equal(primary.SystemId, replica.SystemId);
        Assert.Equal(1, replica.Timeline);

        // A row written on the primary shows on the standby.
        await _a.ExecAsync("CREATE TABLE t (v text); INSERT INTO t VALUES ('hello')");
        await Wait.UntilAsync("the row reaches pg-b", async () => await _b.ScalarAsync<string>("SELECT to_regclass('t')::text") is not null
            && await _b.ScalarAsync<long>("SELECT count(*) FROM t") == 1, Deadline);

        // The primary lists it in pg_stat_replication, and its slot is in use.
        var listed = await Wait.ForAsync("pg-a lists pg-b", async () =>
            (await _a.Controller.ProbeAsync(None)).Replication.FirstOrDefault(r => r.ApplicationName == "pg-b" && r.State == "streaming"), Deadline);
        Assert.Equal("replicator", listed.Usename);
        Assert.Equal("async", listed.SyncState);
        Assert.True(await _a.ScalarAsync<bool>("SELECT active FROM pg_replication_slots WHERE slot_name = 'pg_b'"));

        // A member that left loses its slot; the active one stays.
        await _a.Controller.SyncReplicationSlotsAsync(["pg-a", "pg-b"], None);
        Assert.Equal("pg_b", await _a.ScalarAsync<string>("SELECT string_agg(slot_name, ',') FROM pg_replication_slots"));

        // Following the same upstream again changes nothing and keeps streaming.
        await _b.Controller.FollowAsync(new Upstream("pg-a", "127.0.0.1", _a.Pg.Port), Deadline, None);
        Assert.True((await _b.Controller.ProbeAsync(None)).IsReplica);

        // Switchover: stop the primary cleanly, promote the standby (timeline 2), the old primary follows.
        var finalLsn = (await _a.Controller.ProbeAsync(None)).WalPosition;
        await _a.Controller.StopAsync(immediate: false, TimeSpan.FromSeconds(30), None);
        Assert.False((await _a.Controller.ProbeAsync(None)).PostmasterRunning);
        await Wait.UntilAsync("pg-b replayed pg-a's shutdown checkpoint", async () =>
            (await _b.Controller.ProbeAsync(None)).ReplayLsn > finalLsn, Deadline);

        long timeline = await _b.Controller.PromoteAsync(TimeSpan.FromSeconds(30), None);
        Assert.Equal(2, timeline);
        var promoted = await _b.Controller.ProbeAsync(None);
        Assert.True(promoted.IsPrimary, promoted.ToString());
        Assert.Equal(2, promoted.Timeline);
        Assert.False(File.Exists(Path.Combine(_b.Pg.DataDir, "standby.signal")));
        Assert.DoesNotContain("primary_conninfo", _b.ReadDataFile(ManagedFiles.ConfFileName), StringComparison.Ordinal);
        await _b.ExecAsync("INSERT INTO t VALUES ('after promote')");

        await _b.Controller.SyncReplicationSlotsAsync(["pg-a", "pg-b"], None);
        await _a.Controller.FollowAsync(new Upstream("pg-b", "127.0.0.1", _b.Pg.Port), Deadline, None);
        var follower = await Wait.ForAsync("pg-a streams from pg-b on timeline 2", async () =>
        {
            var s = await _a.Controller.ProbeAsync(None);
            return s.IsReplica && s.Streaming && s.Timeline == 2 ? s : null;
        }, Deadline);
        Assert.Equal($"127.0.0.1:{_b.Pg.Port}", follower.UpstreamHostPort);
        await Wait.UntilAsync("the new row reaches pg-a", async () => await _a.ScalarAsync<long>("SELECT count(*) FROM t") == 2, Deadline);

        // Its upstream goes away: no WAL receiver, a checkpoint still on timeline 1, yet it replays timeline 2
        // (a standby that reported 1 here would stay out of the next leader race).
        await _b.Controller.StopAsync(immediate: true, TimeSpan.FromSeconds(30), None);
        var orphan = await Wait.ForAsync("pg-a notices its upstream is gone", async () =>
        {
            var s = await _a.Controller.ProbeAsync(None);
            return s.IsReplica && !s.Streaming ? s : null;
        }, Deadline);
        Assert.Equal(2, orphan.Timeline);

        // No secret in anything the controller logged, nor in PostgreSQL's own logs.
        foreach (var node in new[] { _a, _b })
        {
            string logged = node.Log.All;
            Assert.NotEmpty(node.Log.Lines);
            Assert.DoesNotContain(TestNode.SuperPassword, logged, StringComparison.Ordinal);
            Assert.DoesNotContain(TestNode.ReplPassword, logged, StringComparison.Ordinal);
            string serverLog = File.ReadAllText(node.Controller.LogFile);
            Assert.DoesNotContain(TestNode.SuperPassword, serverLog, StringComparison.Ordinal);
            Assert.DoesNotContain(TestNode.ReplPassword, serverLog, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFiles(node.Controller.RunDir, ".secret-*"));
        }
    }

    [Fact]
    public async Task A_fast_stop_held_up_by_a_frozen_standby_escalates_to_immediate()
    {
        await _a.Controller.InitDbAsync(None);
        await _a.Controller.StartAsync(null, Deadline, None);
        await _a.Controller.CreateRolesAsync(None);
        await _a.Controller.SyncReplicationSlotsAsync(["pg-a", "pg-b"], None);
        await _b.Controller.CloneAsync("127.0.0.1", _a.Pg.Port, None);
        await _b.Controller.StartAsync(new Upstream("pg-a", "127.0.0.1", _a.Pg.Port), Deadline, None);
        int receiver = 0;
        await Wait.UntilAsync("pg-b's WAL receiver streams", async () =>
            (receiver = await _b.ScalarAsync<int>("SELECT coalesce((SELECT pid FROM pg_stat_wal_receiver WHERE status = 'streaming'), 0)")) > 0, Deadline);

        // A frozen WAL receiver never acknowledges the shutdown checkpoint: the walsender (and so the
        // fast shutdown) would wait for wal_sender_timeout (60 s). The controller escalates instead.
        Assert.Equal(0, Tmds.Linux.LibC.kill(receiver, Tmds.Linux.LibC.SIGSTOP));
        try
        {
            await _a.ExecAsync("CREATE TABLE big AS SELECT g FROM generate_series(1, 1000) g");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            await _a.Controller.StopAsync(immediate: false, TimeSpan.FromSeconds(2), None);
            Assert.False((await _a.Controller.ProbeAsync(None)).PostmasterRunning);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(40), $"stop took {sw.Elapsed}");
        }
        finally
        {
            _ = Tmds.Linux.LibC.kill(receiver, Tmds.Linux.LibC.SIGCONT);
        }
        Assert.Contains(_a.Log.Lines, l => l.Contains("Escalating", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_failed_clone_leaves_an_empty_data_directory()
    {
        // Nothing listens on this port: pg_basebackup fails, and the data directory is left empty for the next try.
        var ex = await Assert.ThrowsAsync<PostgresControlException>(() => _b.Controller.CloneAsync("127.0.0.1", FreePorts.Next(), None));
        Assert.Contains("pg_basebackup", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_b.Pg.DataDir));
        Assert.False((await _b.Controller.ProbeAsync(None)).DataDirInitialized);
        Assert.DoesNotContain(TestNode.ReplPassword, _b.Log.All, StringComparison.Ordinal);
    }
}
