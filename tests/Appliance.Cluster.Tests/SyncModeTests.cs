using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Appliance.Lab;
using Appliance.TestKit;
using Npgsql;
using Tmds.Linux;

namespace Appliance.Cluster.Tests;

/// <summary>
/// Synchronous mode keeps its promise: a client writes without pause and records every id the server
/// acknowledged; the primary is killed (SIGKILL of agent and postmaster) and switched over, several
/// times; every acknowledged id is still there, and only the standby the sync key named was promoted.
/// </summary>
public sealed class SyncModeTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task No_acknowledged_write_is_lost_across_crashes_and_switchovers_and_only_the_sync_standby_is_promoted()
    {
        await using var c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("sync") with { SynchronousMode = true });
        var primary = await c.WaitForPrimaryAsync("a primary", Deadline);
        await c.ExecAsync(primary.Name, "CREATE TABLE acked(id bigint PRIMARY KEY)");

        using var stop = new CancellationTokenSource();
        var writer = new AckedWriter(c);
        var writing = Task.Run(() => writer.RunAsync(stop.Token));
        try
        {
            for (int round = 1; round <= 3; round++)
            {
                var (leader, sync) = await WaitForSyncStandbyAsync(c);
                var ackedBefore = writer.Acked.Count;
                await Wait.UntilAsync($"round {round}: writes are acknowledged through {leader}", () => writer.Acked.Count > ackedBefore + 20, Deadline);

                if (round % 2 == 1)
                {
                    c.SignalAgent(leader, LibC.SIGKILL);
                    c.KillPostgres(leader, LibC.SIGKILL);
                    var promoted = await c.WaitForPrimaryAsync($"round {round}: a standby is promoted after {leader} crashed", Deadline, p => p.Name != leader);
                    Assert.Equal(sync, promoted.Name);
                    c.StartAgent(leader);
                }
                else
                {
                    using var http = new HttpClient();
                    var r = await http.PostAsJsonAsync($"{c[leader].ApiUrl}/switchover", new Dictionary<string, string> { ["leader"] = leader });
                    Assert.True(r.IsSuccessStatusCode, $"switchover answered {(int)r.StatusCode}: {await r.Content.ReadAsStringAsync()}");
                    var promoted = await c.WaitForPrimaryAsync($"round {round}: switched over from {leader}", Deadline, p => p.Name != leader);
                    Assert.Equal(sync, promoted.Name);
                }
                await Wait.UntilAsync($"round {round}: all three members stream again", async () => await StreamingCountAsync(c) == 2, Deadline);
            }
            var last = writer.Acked.Count;
            await Wait.UntilAsync("writes go on after the last fault", () => writer.Acked.Count > last + 20, Deadline);
        }
        finally
        {
            await stop.CancelAsync();
            await writing;
        }

        var final = await c.WaitForPrimaryAsync("a primary at the end", Deadline);
        var stored = new HashSet<long>();
        await using (var conn = new NpgsqlConnection(c.ConnectionString(final.Name)))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT id FROM acked", conn);
            await using var rd = await cmd.ExecuteReaderAsync();
            while (await rd.ReadAsync()) stored.Add(rd.GetInt64(0));
        }
        var lost = writer.Acked.Where(id => !stored.Contains(id)).Order().ToList();
        Assert.True(writer.Acked.Count > 100, $"only {writer.Acked.Count} writes were acknowledged");
        Assert.True(lost.Count == 0, $"{lost.Count} of {writer.Acked.Count} acknowledged ids are missing, first {string.Join(", ", lost.Take(10))}");
    }

    [Fact]
    public async Task Strict_mode_holds_commits_while_no_standby_runs_and_turning_synchronous_mode_off_clears_the_key()
    {
        await using var c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("strict") with { Members = 2, SynchronousMode = true });
        var (leader, standby) = await WaitForSyncStandbyAsync(c);
        using var http = new HttpClient();
        Assert.True((await http.PatchAsync($"{c[leader].ApiUrl}/config", new StringContent("""{"synchronous_mode_strict":true}"""))).IsSuccessStatusCode);
        await c.ExecAsync(leader, "CREATE TABLE strict_rows(v int)");

        c.SignalAgent(standby, LibC.SIGTERM);
        Assert.True(await c[standby].Agent!.WaitForExitAsync(Deadline));
        // It handed its duty over before stopping PostgreSQL, so the leader never waited on a stopped standby.
        var log = File.ReadAllText(c[standby].AgentLog);
        var released = log.IndexOf("released from synchronous duty", StringComparison.Ordinal);
        Assert.InRange(released, 0, log.IndexOf("shutting down: stopping PostgreSQL", StringComparison.Ordinal));
        await Wait.UntilAsync($"{leader} requires any standby ('*')",
            async () => await c.ScalarAsync<string>(leader, "SHOW synchronous_standby_names") == "*", Deadline);

        var insert = c.ExecAsync(leader, "INSERT INTO strict_rows VALUES (1)");
        await Wait.UntilAsync("the commit waits for a synchronous standby",
            async () => await c.ScalarAsync<long>(leader, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") == 1, Deadline);
        Assert.False(insert.IsCompleted);

        c.StartAgent(standby);
        await insert.WaitAsync(Deadline);
        Assert.Equal(1, await c.ScalarAsync<int>(standby, "SELECT count(*)::int FROM strict_rows"));

        Assert.True((await http.PatchAsync($"{c[leader].ApiUrl}/config", new StringContent("""{"synchronous_mode":false}"""))).IsSuccessStatusCode);
        await Wait.UntilAsync("synchronous mode off: no sync key, no synchronous standby required", async () =>
            await SyncKeyAsync(c) == "" && await c.ScalarAsync<string>(leader, "SHOW synchronous_standby_names") == "", Deadline);
    }

    static async Task<string> SyncKeyAsync(LocalCluster c)
    {
        var r = await Cli.RunAsync("etcdctl", [$"--endpoints={c.Etcd.Endpoint}", "get", $"{c.Options.Namespace}/{c.Options.Scope}/sync", "--print-value-only"],
            new Dictionary<string, string?> { ["ETCDCTL_API"] = "3" });
        Assert.Equal(0, r.ExitCode);
        return r.Output.Trim();
    }

    /// <summary>Waits until the sync key names a standby that streams from the leader it names; returns both.</summary>
    static Task<SyncPair> WaitForSyncStandbyAsync(LocalCluster c)
        => Wait.ForAsync("the sync key names a streaming synchronous standby", async () =>
        {
            var key = await SyncKeyAsync(c);
            if (key.Length == 0) return null;
            using var doc = JsonDocument.Parse(key);
            if (!doc.RootElement.TryGetProperty("sync_standby", out var s) || s.ValueKind != JsonValueKind.String) return null;
            var leader = doc.RootElement.GetProperty("leader").GetString()!;
            var sync = s.GetString()!;
            var primary = await c.PrimaryAsync();
            if (primary?.Name != leader) return null;
            var state = await c.ScalarAsync<string>(leader, $"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{sync}' AND state = 'streaming'");
            return state == "sync" ? new SyncPair(leader, sync) : null;
        }, Deadline);

    sealed record SyncPair(string Leader, string Sync);

    static async Task<long> StreamingCountAsync(LocalCluster c)
    {
        var p = await c.PrimaryAsync();
        return p is null ? 0 : await c.ScalarAsync<long>(p.Name, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'");
    }

    /// <summary>A client that inserts increasing ids into whichever member is primary and records those whose COMMIT returned.</summary>
    sealed class AckedWriter(LocalCluster c)
    {
        public ConcurrentBag<long> Acked { get; } = [];

        public async Task RunAsync(CancellationToken stop)
        {
            long next = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var p = await c.PrimaryAsync(stop);
                    if (p is null)
                    {
                        await Task.Delay(50, stop);
                        continue;
                    }
                    var b = new NpgsqlConnectionStringBuilder(c.ConnectionString(p.Name)) { Timeout = 3, CommandTimeout = 5 };
                    await using var conn = new NpgsqlConnection(b.ConnectionString);
                    await conn.OpenAsync(stop);
                    while (!stop.IsCancellationRequested)
                    {
                        var id = ++next;
                        await using var cmd = new NpgsqlCommand("INSERT INTO acked VALUES ($1)", conn);
                        cmd.Parameters.Add(new NpgsqlParameter { Value = id });
                        await cmd.ExecuteNonQueryAsync(stop);
                        Acked.Add(id);
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException or HttpRequestException or OperationCanceledException)
                {
                    // The primary went away mid-statement: that id is unknown, not acknowledged. Find the next primary.
                    await Task.Delay(50, CancellationToken.None);
                }
            }
        }
    }
}
