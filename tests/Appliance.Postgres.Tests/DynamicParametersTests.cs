using Appliance.TestKit;

namespace Appliance.Postgres.Tests;

/// <summary>The cluster's dynamic parameters on a real server: a reload for what it takes, pending_restart for the rest.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "xunit 2 disposes test classes through IAsyncLifetime.DisposeAsync (it ignores IAsyncDisposable)")]
public sealed class DynamicParametersTests : IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    static readonly CancellationToken None = CancellationToken.None;

    readonly TempDir _dir = new("appl-postgres-dyn");
    readonly TestNode _n;

    public DynamicParametersTests() => _n = new TestNode(_dir.Path, "dyn", passwords: false);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _n.DisposeAsync();
        _dir.Dispose();
    }

    static Dictionary<string, string> P(params (string Key, string Value)[] kv) => kv.ToDictionary(p => p.Key, p => p.Value);

    [Fact]
    public async Task A_reloadable_change_applies_at_once_and_a_restart_only_one_is_pending_until_a_restart()
    {
        var c = _n.Controller;
        await c.InitDbAsync(None);
        // Stopped: remembered for the next start, nothing to reload.
        Assert.False(await c.ApplyDynamicParametersAsync(P(("work_mem", "5MB")), reload: true, None));
        await c.StartAsync(null, Deadline, None);
        Assert.Equal("5MB", await _n.ScalarAsync<string>("SHOW work_mem"));

        // Reloadable: applied without a restart, and nothing waits for one.
        Assert.True(await c.ApplyDynamicParametersAsync(P(("work_mem", "7MB")), reload: true, None));
        await Wait.UntilAsync("work_mem is 7MB after the reload", async () => await _n.ScalarAsync<string>("SHOW work_mem") == "7MB", Deadline);
        Assert.False((await c.ProbeAsync(None)).PendingRestart);
        // The same again changes no file: no reload.
        Assert.False(await c.ApplyDynamicParametersAsync(P(("work_mem", "7MB")), reload: true, None));
        // The local [postgresql.parameters] (max_connections = 30 here) wins: nothing changes.
        Assert.False(await c.ApplyDynamicParametersAsync(P(("work_mem", "7MB"), ("max_connections", "77")), reload: true, None));

        // Restart-only: written and reloaded, reported pending with its name, the old value still in force.
        Assert.True(await c.ApplyDynamicParametersAsync(P(("work_mem", "7MB"), ("max_files_per_process", "900")), reload: true, None));
        var pending = await Wait.ForAsync("max_files_per_process waits for a restart", async () =>
        {
            var s = await c.ProbeAsync(None);
            return s.PendingRestart ? s : null;
        }, Deadline);
        Assert.Equal([new Appliance.Node.PendingSetting("max_files_per_process", "1000", "900")], pending.PendingRestartSettings.ToArray());
        Assert.Equal("1000", await _n.ScalarAsync<string>("SHOW max_files_per_process"));
        Assert.Equal("30", await _n.ScalarAsync<string>("SHOW max_connections"));

        // A restart applies it and clears the flag.
        await c.StopAsync(immediate: false, TimeSpan.FromSeconds(30), None);
        await c.StartAsync(null, Deadline, None);
        var after = await c.ProbeAsync(None);
        Assert.True(after.IsPrimary);
        Assert.False(after.PendingRestart);
        Assert.Equal("900", await _n.ScalarAsync<string>("SHOW max_files_per_process"));
        Assert.Equal("7MB", await _n.ScalarAsync<string>("SHOW work_mem"));

        // Without reload (a background action runs): remembered only, the file is left alone.
        string conf = _n.ReadDataFile(ManagedFiles.ConfFileName);
        Assert.False(await c.ApplyDynamicParametersAsync(P(("work_mem", "9MB")), reload: false, None));
        Assert.Equal(conf, _n.ReadDataFile(ManagedFiles.ConfFileName));
        Assert.True(await c.ApplyDynamicParametersAsync(P(("work_mem", "9MB")), reload: true, None));
        await Wait.UntilAsync("work_mem is 9MB", async () => await _n.ScalarAsync<string>("SHOW work_mem") == "9MB", Deadline);
    }
}
