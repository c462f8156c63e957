using System.Diagnostics;
using Appliance.Lab;
using Npgsql;
using Tmds.Linux;

namespace Appliance.Bench;

/// <summary>
/// Client-observed write gap on a leader crash: a client writes in a loop through a multi-host
/// connection string with <c>target_session_attrs=read-write</c> (libpq's semantics, here through
/// Npgsql), the leader's agent and postmaster get SIGKILL, and the gap is the time from the last
/// acknowledged write before the kill to the first one after it.
/// </summary>
public static class FailoverBench
{
    public sealed record Profile(string Name, int Ttl, int LoopWait, int RetryTimeout);

    public static readonly Profile[] Profiles =
    [
        new("default (ttl 30, loop_wait 10, retry_timeout 10)", 30, 10, 10),
        new("fastest allowed (ttl 5, loop_wait 1, retry_timeout 2)", 5, 1, 2),
    ];

    public static async Task<int> RunAsync(int runs, string repoRoot, TextWriter o, CancellationToken ct)
    {
        var agent = AgentCommand.Locate(repoRoot, preferPublished: true);
        await o.WriteLineAsync($"failover benchmark: {runs} run(s) per profile, agent {agent.File}, {Environment.ProcessorCount} cores");
        foreach (var profile in Profiles)
        {
            var gaps = new List<double>();
            var options = new LabOptions
            {
                Root = Path.Combine(Path.GetTempPath(), $"appl-bench-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}"),
                Agent = agent, Scope = "bench", Ttl = profile.Ttl, LoopWait = profile.LoopWait, RetryTimeout = profile.RetryTimeout,
            };
            await using var cluster = await LocalCluster.StartAsync(options, ct);
            await ClusterProgress.WaitHealthyAsync(cluster, TextWriter.Null, TimeSpan.FromMinutes(3), ct);
            for (var run = 1; run <= runs; run++)
            {
                var gap = await OneRunAsync(cluster, ct);
                gaps.Add(gap.TotalSeconds);
                await o.WriteLineAsync($"  {profile.Name}: run {run}: write gap {gap.TotalSeconds:0.00} s");
                await ClusterProgress.WaitHealthyAsync(cluster, TextWriter.Null, TimeSpan.FromMinutes(5), ct);
            }
            gaps.Sort();
            await o.WriteLineAsync($"{profile.Name}: median {gaps[gaps.Count / 2]:0.00} s, range {gaps[0]:0.00}-{gaps[^1]:0.00} s over {gaps.Count} runs");
        }
        return 0;
    }

    static async Task<TimeSpan> OneRunAsync(LocalCluster c, CancellationToken ct)
    {
        var hosts = string.Join(",", c.Members.Select(m => $"127.0.0.1:{m.PgPort}"));
        var cs = $"Host={hosts};Username=postgres;Password={c.Options.SuperuserPassword};Database=postgres;" +
                 "Target Session Attributes=read-write;Timeout=2;Command Timeout=2;Pooling=false;Host Recheck Seconds=1";
        await using (var setup = new NpgsqlConnection(cs))
        {
            await setup.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS bench_writes(id bigserial primary key, at timestamptz default now())", setup);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        var leader = await c.PrimaryAsync(ct) ?? throw new InvalidOperationException("no primary");
        var clock = Stopwatch.StartNew();
        // A write in flight at the kill may still be acknowledged: the outage starts at the first failure
        // after the kill, and the gap runs from the last acknowledgement before it to the first after it.
        TimeSpan? killedAt = null, lastBefore = null, firstAfter = null;
        var failedSinceKill = false;
        var writer = Task.Run(async () =>
        {
            NpgsqlConnection? conn = null;
            while (firstAfter is null && clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                try
                {
                    if (conn is null)
                    {
                        conn = new NpgsqlConnection(cs);
                        await conn.OpenAsync(ct);
                    }
                    await using var cmd = new NpgsqlCommand("INSERT INTO bench_writes DEFAULT VALUES", conn);
                    await cmd.ExecuteNonQueryAsync(ct);
                    var at = clock.Elapsed;
                    if (!failedSinceKill) lastBefore = at;
                    else firstAfter = at;
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    if (killedAt is not null) failedSinceKill = true;
                    if (conn is not null) await conn.DisposeAsync();
                    conn = null;
                    await Task.Delay(20, ct);
                }
            }
            if (conn is not null) await conn.DisposeAsync();
        }, ct);
        await Task.Delay(2000, ct);
        killedAt = clock.Elapsed;
        c.SignalAgent(leader.Name, LibC.SIGKILL);
        c.KillPostgres(leader.Name, LibC.SIGKILL);
        await writer;
        if (firstAfter is null || lastBefore is null) throw new TimeoutException("no write succeeded after the kill within 3 minutes");
        await Task.Delay(500, ct);
        c.StartAgent(leader.Name);
        return firstAfter.Value - lastBefore.Value;
    }
}
