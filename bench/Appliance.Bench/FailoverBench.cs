using Appliance.Lab;
using Tmds.Linux;

namespace Appliance.Bench;

/// <summary>Client-observed write gap (<see cref="WriteGap"/>) when the leader's agent and postmaster get SIGKILL.</summary>
public static class FailoverBench
{
    public sealed record Profile(string Name, int Ttl, int LoopWait, int RetryTimeout, bool Synchronous = false);

    public static readonly Profile[] Profiles =
    [
        new("default (ttl 30, loop_wait 10, retry_timeout 10)", 30, 10, 10),
        new("fastest allowed (ttl 5, loop_wait 1, retry_timeout 2)", 5, 1, 2),
    ];

    /// <summary>The same timings with <c>synchronous_mode</c> on (<c>failover --sync</c>).</summary>
    public static readonly Profile[] SynchronousProfiles =
    [
        new("synchronous mode, default timings", 30, 10, 10, Synchronous: true),
        new("synchronous mode, fastest allowed", 5, 1, 2, Synchronous: true),
    ];

    public static async Task<int> RunAsync(int runs, bool synchronous, string repoRoot, TextWriter o, CancellationToken ct)
    {
        var agent = AgentCommand.Locate(repoRoot, preferPublished: true);
        await o.WriteLineAsync($"failover benchmark: {runs} run(s) per profile, agent {agent.File}, {Environment.ProcessorCount} cores");
        foreach (var profile in synchronous ? SynchronousProfiles : Profiles)
        {
            var gaps = new List<double>();
            var options = new LabOptions
            {
                Root = Path.Combine(Path.GetTempPath(), $"appl-bench-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}"),
                Agent = agent, Scope = "bench", Ttl = profile.Ttl, LoopWait = profile.LoopWait, RetryTimeout = profile.RetryTimeout,
                SynchronousMode = profile.Synchronous,
            };
            await using var cluster = await LocalCluster.StartAsync(options, ct);
            await ClusterProgress.WaitHealthyAsync(cluster, TextWriter.Null, TimeSpan.FromMinutes(3), ct);
            for (var run = 1; run <= runs; run++)
            {
                // In synchronous mode only a confirmed synchronous standby may take over: crash the leader once there is one.
                if (profile.Synchronous) await WaitForSyncStandbyAsync(cluster, ct);
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

    static async Task WaitForSyncStandbyAsync(LocalCluster c, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            foreach (var m in c.Members)
            {
                using var status = await c.StatusAsync(m.Name, ct);
                if (status?.RootElement.TryGetProperty("sync_standby", out var s) == true && s.ValueKind == System.Text.Json.JsonValueKind.True) return;
            }
            await Task.Delay(200, ct);
        }
        throw new TimeoutException("no synchronous standby within 3 minutes");
    }

    static async Task<TimeSpan> OneRunAsync(LocalCluster c, CancellationToken ct)
    {
        var leader = await c.PrimaryAsync(ct) ?? throw new InvalidOperationException("no primary");
        var gap = await WriteGap.MeasureAsync(c, () =>
        {
            c.SignalAgent(leader.Name, LibC.SIGKILL);
            c.KillPostgres(leader.Name, LibC.SIGKILL);
            return Task.CompletedTask;
        }, ct);
        await Task.Delay(500, ct);
        c.StartAgent(leader.Name);
        return gap;
    }
}
