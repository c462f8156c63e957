using Appliance.Cluster;

namespace Appliance.Etcd;

/// <summary>
/// What of a snapshot the proxy routes on: who holds the leader key; each member's presence, role,
/// state, addresses and tags; <c>config</c>, <c>sync</c> and <c>failover</c> (a switchover about to start); and WAL positions when they moved far enough.
/// Everything else (a member's refreshed timestamps, small position moves) does not make a new snapshot.
/// </summary>
internal static class RoutingView
{
    public static bool Differs(ClusterSnapshot a, ClusterSnapshot b, long? positionThreshold)
    {
        if (a.Leader?.Name != b.Leader?.Name || a.ConfigJson != b.ConfigJson || a.SyncJson != b.SyncJson || a.FailoverJson != b.FailoverJson) return true;
        if (a.Members.Length != b.Members.Length) return true;
        for (var i = 0; i < a.Members.Length; i++)
        {
            // Both lists are sorted by name.
            var (x, y) = (a.Members[i], b.Members[i]);
            if (x.Name != y.Name) return true;
            var (p, q) = (x.Data, y.Data);
            if (p.Role != q.Role || p.State != q.State || p.ConnUrl != q.ConnUrl || p.ApiUrl != q.ApiUrl || !SameTags(p.Tags, q.Tags)) return true;
            if (Moved(p.XlogLocation, q.XlogLocation, positionThreshold)) return true;
        }
        return Moved(a.LastLsn, b.LastLsn, positionThreshold);
    }

    private static bool Moved(long? from, long? to, long? threshold)
        => threshold is long t && (from is long f && to is long n ? Math.Abs(n - f) >= t : from.HasValue != to.HasValue);

    private static bool SameTags(Dictionary<string, JsonTagValue>? a, Dictionary<string, JsonTagValue>? b)
    {
        if (a is null || b is null) return (a?.Count ?? 0) == (b?.Count ?? 0);
        if (a.Count != b.Count) return false;
        foreach (var (k, v) in a)
        {
            if (!b.TryGetValue(k, out var w) || v.Value.GetRawText() != w.Value.GetRawText()) return false;
        }
        return true;
    }
}
