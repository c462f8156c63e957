using System.Text.Json;
using Appliance.Cluster;

namespace Appliance.Cli.Model;

/// <summary>
/// The cluster as patronictl computes it from one snapshot: roles (leader, sync standby, replica),
/// each replica's lag against the leader's last published position (the <c>status</c> key's optime,
/// 0 when absent, as ctl.py's <c>cluster.last_lsn</c>), maintenance mode and a scheduled switchover.
/// </summary>
internal sealed record ClusterView(string Scope, IReadOnlyList<MemberView> Members, string? LeaderName, bool Paused, ScheduledSwitchover? Scheduled, string? Initialize)
{
    private static readonly string[] StandbyKeys = ["host", "port", "restore_command"];

    public MemberView? Leader => Members.FirstOrDefault(m => m.Name == LeaderName);

    /// <summary>Members that publish an API URL, the leader first (ctl.py's <c>get_all_members_leader_first</c>).</summary>
    public IEnumerable<MemberView> LeaderFirst()
    {
        if (Leader is { ApiUrl.Length: > 0 } l) yield return l;
        foreach (var m in Members)
            if (m.ApiUrl.Length > 0 && m.Name != LeaderName) yield return m;
    }

    public MemberView? Get(string name) => Members.FirstOrDefault(m => m.Name == name);

    public static ClusterView From(string scope, ClusterSnapshot s)
    {
        var config = ParseObject(s.ConfigJson);
        var leaderName = s.Leader?.Name;
        var standby = config is { } c && c.TryGetProperty("standby_cluster", out var sc) && IsStandbyCluster(sc);
        var sync = SyncMembers(s.SyncJson);
        var lastLsn = s.LastLsn ?? 0;
        var members = s.Members.Select(m =>
        {
            var role = m.Name == leaderName ? (standby ? "standby_leader" : "leader") : sync.Contains(m.Name) ? "sync_standby" : "replica";
            var ep = m.PostgresEndpoint;
            long? lag = null;
            var unknown = false;
            if (m.Name != leaderName)
            {
                if (m.Data.XlogLocation is { } lsn) lag = lastLsn >= lsn ? lastLsn - lsn : 0;
                else unknown = true;
            }
            return new MemberView
            {
                Name = m.Name,
                Role = role,
                State = m.Data.State,
                ApiUrl = m.Data.ApiUrl,
                Host = ep?.Host,
                Port = ep?.Port,
                Timeline = m.Data.Timeline,
                PendingRestart = m.Data.PendingRestart == true,
                ScheduledRestart = m.Data.ScheduledRestart is { } sr
                    ? sr.Schedule + (sr.PostgresVersion is { } v ? $" if version < {v}" : "")
                    : null,
                Tags = m.Data.Tags is { Count: > 0 } t ? t : null,
                Lag = lag,
                LagUnknown = unknown,
                NoFailover = m.NoFailover,
            };
        }).OrderBy(m => m.Name, StringComparer.Ordinal).ToList();
        return new ClusterView(scope, members, leaderName, IsTrue(config, "pause"), ScheduledSwitchover.Parse(s.FailoverJson), s.Initialize);
    }

    private static JsonElement? ParseObject(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Patroni's <c>parse_bool</c> on a config key: true, or a string/number that means true.</summary>
    internal static bool IsTrue(JsonElement? config, string key)
    {
        if (config is not { } c || !c.TryGetProperty(key, out var v)) return false;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.Number => v.TryGetDouble(out var d) && d != 0,
            JsonValueKind.String => v.GetString()?.ToUpperInvariant() is "TRUE" or "ON" or "YES" or "1",
            _ => false,
        };
    }

    private static bool IsStandbyCluster(JsonElement sc) =>
        sc.ValueKind == JsonValueKind.Object
        && StandbyKeys.Any(k => sc.TryGetProperty(k, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.False) && !(v.ValueKind == JsonValueKind.String && v.GetString() is ""));

    /// <summary>The names in the <c>sync</c> key's <c>sync_standby</c> (comma-separated, as Patroni writes it).</summary>
    private static HashSet<string> SyncMembers(string? json)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (ParseObject(json) is { } o && o.TryGetProperty("sync_standby", out var v) && v.ValueKind == JsonValueKind.String)
            foreach (var n in (v.GetString() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                set.Add(n);
        return set;
    }
}

/// <summary>A switchover waiting in the <c>failover</c> key (<c>scheduled_at</c> set).</summary>
internal sealed record ScheduledSwitchover(string At, string? From, string? To)
{
    public static ScheduledSwitchover? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object || !r.TryGetProperty("scheduled_at", out var at) || at.ValueKind != JsonValueKind.String) return null;
            return new ScheduledSwitchover(at.GetString()!, Get(r, "leader"), Get(r, "member"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Get(JsonElement o, string key) =>
        o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;
}
