using System.Text.Json;

namespace Appliance.Lab;

/// <summary>What each member says it is doing, read from its <c>/patroni</c>, in one line per member.</summary>
public sealed record MemberProgress(string Name, string State, string Role, long? Timeline, int StreamingReplicas, bool Answers)
{
    public string Label => !Answers ? "not answering yet" : State switch
    {
        "running" when Role == "master" => $"primary (timeline {Timeline}, {StreamingReplicas} streaming replica(s))",
        "running" => $"replica (timeline {Timeline})",
        _ => State,
    };

    public static MemberProgress From(string name, JsonDocument? doc)
    {
        if (doc is null) return new(name, "unknown", "unknown", null, 0, false);
        var r = doc.RootElement;
        var streaming = r.TryGetProperty("replication", out var rep) && rep.ValueKind == JsonValueKind.Array
            ? rep.EnumerateArray().Count(x => x.TryGetProperty("state", out var s) && s.GetString() == "streaming")
            : 0;
        return new(name,
            r.TryGetProperty("state", out var st) ? st.GetString() ?? "" : "",
            r.TryGetProperty("role", out var ro) ? ro.GetString() ?? "" : "",
            r.TryGetProperty("timeline", out var tl) && tl.TryGetInt64(out var t) ? t : null,
            streaming, true);
    }
}

public static class ClusterProgress
{
    public static async Task<MemberProgress[]> ReadAsync(LocalCluster c, CancellationToken ct)
        => await Task.WhenAll(c.Members.Select(async m =>
        {
            using var doc = await c.StatusAsync(m.Name, ct);
            return MemberProgress.From(m.Name, doc);
        }));

    /// <summary>One primary that every other member streams from.</summary>
    public static bool IsHealthy(IReadOnlyList<MemberProgress> members)
    {
        var primaries = members.Where(m => m.State == "running" && m.Role == "master").ToList();
        return primaries.Count == 1
            && primaries[0].StreamingReplicas >= members.Count - 1
            && members.Count(m => m.State == "running" && m.Role == "replica") == members.Count - 1;
    }

    /// <summary>Waits until the cluster is healthy, printing each member's state whenever it changes.</summary>
    public static async Task WaitHealthyAsync(LocalCluster c, TextWriter output, TimeSpan deadline, CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        var last = new Dictionary<string, string>();
        while (true)
        {
            var now = await ReadAsync(c, ct);
            foreach (var m in now)
            {
                if (last.GetValueOrDefault(m.Name) == m.Label) continue;
                last[m.Name] = m.Label;
                await output.WriteLineAsync($"  [{(DateTimeOffset.UtcNow - started).TotalSeconds,5:0.0}s] {m.Name}: {m.Label}");
            }
            if (IsHealthy(now)) return;
            if (DateTimeOffset.UtcNow - started > deadline)
            {
                var logs = string.Join("\n", c.Members.Select(m => $"--- {m.Name} agent log ---\n{m.Agent?.LogTail(15)}"));
                throw new TimeoutException($"the cluster did not become healthy within {deadline.TotalSeconds:0}s\n{logs}");
            }
            await Task.Delay(300, ct);
        }
    }
}
