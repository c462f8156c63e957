using Appliance.TestKit;

namespace Appliance.Postgres.Tests;

/// <summary>Start, stop (fast, immediate), a killed postmaster, a wipe: one node, driven through the controller.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "xunit 2 disposes test classes through IAsyncLifetime.DisposeAsync (it ignores IAsyncDisposable)")]
public sealed class LifecycleTests : IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    static readonly CancellationToken None = CancellationToken.None;

    readonly TempDir _dir = new("appl-postgres-test");
    readonly TestNode _n;

    // No passwords: the agent talks over the unix socket with peer authentication (root → postgres).
    public LifecycleTests() => _n = new TestNode(_dir.Path, "solo", passwords: false);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _n.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task Stop_fast_stop_immediate_sigkill_and_wipe()
    {
        var c = _n.Controller;
        await c.InitDbAsync(None);
        await c.StartAsync(null, Deadline, None);
        await c.CreateRolesAsync(None);
        var up = await c.ProbeAsync(None);
        Assert.True(up.IsPrimary, up.ToString());
        Assert.NotNull(up.PostmasterPid);
        await Assert.ThrowsAsync<PostgresControlException>(() => c.StartAsync(null, Deadline, None));
        await Assert.ThrowsAsync<PostgresControlException>(() => c.WipeDataDirAsync(None));

        // Fast.
        await c.StopAsync(immediate: false, TimeSpan.FromSeconds(30), None);
        var down = await c.ProbeAsync(None);
        Assert.False(down.PostmasterRunning);
        Assert.False(down.Accepting);
        Assert.Null(down.InRecovery);
        Assert.False(File.Exists(Path.Combine(_n.Pg.DataDir, "postmaster.pid")));
        await c.StopAsync(immediate: false, TimeSpan.FromSeconds(30), None); // no-op

        // Immediate.
        await c.StartAsync(null, Deadline, None);
        await c.StopAsync(immediate: true, TimeSpan.FromSeconds(30), None);
        Assert.False((await c.ProbeAsync(None)).PostmasterRunning);

        // SIGKILL: postmaster.pid stays behind but names a dead process.
        await c.StartAsync(null, Deadline, None);
        int pid = (await c.ProbeAsync(None)).PostmasterPid!.Value;
        Assert.Equal(0, Tmds.Linux.LibC.kill(pid, Tmds.Linux.LibC.SIGKILL));
        var killed = await Wait.ForAsync("the killed postmaster is seen as gone", async () =>
        {
            var s = await c.ProbeAsync(None);
            return s.PostmasterRunning ? null : s;
        }, Deadline);
        Assert.False(killed.Accepting);
        Assert.True(killed.DataDirInitialized);
        Assert.True(File.Exists(Path.Combine(_n.Pg.DataDir, "postmaster.pid")));

        // It starts again over the stale pid file once the orphaned backends are gone (crash recovery).
        await Wait.UntilAsync("a restart after the crash succeeds", async () =>
        {
            try { await c.StartAsync(null, TimeSpan.FromSeconds(20), None); return true; }
            catch (PostgresControlException) { return false; }
        }, Deadline, TimeSpan.FromSeconds(1));
        Assert.True((await c.ProbeAsync(None)).IsPrimary);

        await c.StopAsync(immediate: false, TimeSpan.FromSeconds(30), None);
        // Set aside before a re-clone: the data moves, whole, next to the data dir.
        var aside = await c.SetAsideDataDirAsync(None);
        Assert.Equal(_n.Pg.DataDir + ".diverged", aside);
        Assert.True(File.Exists(Path.Combine(aside!, "PG_VERSION")));
        Assert.False((await c.ProbeAsync(None)).DataDirInitialized);
        Assert.Null(await c.SetAsideDataDirAsync(None));
        Directory.Move(aside!, _n.Pg.DataDir);

        await c.WipeDataDirAsync(None);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_n.Pg.DataDir));
        Assert.False((await c.ProbeAsync(None)).DataDirInitialized);
        Assert.True(File.Exists(c.LogFile));
    }
}
