using System.Net.Http.Json;
using Appliance.Lab;

namespace Appliance.Bench;

/// <summary>
/// Client-observed write pause of a planned switchover (<c>POST /switchover</c> to the leader, the
/// most advanced replica as the candidate), alternating between the nodes, default timings.
/// </summary>
public static class SwitchoverBench
{
    public static async Task<int> RunAsync(int runs, string repoRoot, TextWriter o, CancellationToken ct)
    {
        var agent = AgentCommand.Locate(repoRoot, preferPublished: true);
        await o.WriteLineAsync($"switchover benchmark: {runs} run(s), agent {agent.File}, {Environment.ProcessorCount} cores");
        var options = new LabOptions
        {
            Root = Path.Combine(Path.GetTempPath(), $"appl-bench-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}"),
            Agent = agent, Scope = "bench",
        };
        await using var cluster = await LocalCluster.StartAsync(options, ct);
        await ClusterProgress.WaitHealthyAsync(cluster, TextWriter.Null, TimeSpan.FromMinutes(3), ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(90) };
        var gaps = new List<double>();
        for (var run = 1; run <= runs; run++)
        {
            var leader = await cluster.PrimaryAsync(ct) ?? throw new InvalidOperationException("no primary");
            var candidate = cluster.Members.First(m => m != leader);
            string answer = "";
            var gap = await WriteGap.MeasureAsync(cluster, async () =>
            {
                using var resp = await http.PostAsJsonAsync($"{leader.ApiUrl}/switchover",
                    new Dictionary<string, string> { ["leader"] = leader.Name, ["candidate"] = candidate.Name }, BenchJson.Default.DictionaryStringString, ct);
                answer = $"{(int)resp.StatusCode} {await resp.Content.ReadAsStringAsync(ct)}";
            }, ct);
            gaps.Add(gap.TotalSeconds);
            await o.WriteLineAsync($"  run {run}: {leader.Name} -> {candidate.Name}: write pause {gap.TotalSeconds:0.000} s ({answer})");
            await ClusterProgress.WaitHealthyAsync(cluster, TextWriter.Null, TimeSpan.FromMinutes(5), ct);
        }
        gaps.Sort();
        await o.WriteLineAsync($"switchover: median {gaps[gaps.Count / 2]:0.000} s, range {gaps[0]:0.000}-{gaps[^1]:0.000} s over {gaps.Count} runs");
        return 0;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class BenchJson : System.Text.Json.Serialization.JsonSerializerContext;
