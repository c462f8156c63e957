using System.Collections.Immutable;
using System.Text;
using Appliance.Cluster;
using Appliance.Node;

namespace Appliance.Ha;

/// <summary>
/// The leader's rules for synchronous replication (Patroni's <c>process_sync_replication</c> and
/// <c>SyncHandler</c>), pure. Names go into <c>synchronous_standby_names</c> first and into the <c>sync</c>
/// key only once they are seen confirming commits; on removal the key shrinks first. So every node the
/// key names holds every transaction acknowledged to a client, and only those may be promoted.
/// </summary>
public static class SyncPlanner
{
    /// <summary>
    /// The standbys that should be synchronous: members streaming from this primary, running and not
    /// tagged <c>nosync</c>; current synchronous ones first (no needless swaps), then the most advanced;
    /// <c>nofailover</c> members last; at most <c>synchronous_node_count</c>, and none lagging more than
    /// <c>maximum_lag_on_syncnode</c> behind the most advanced.
    /// </summary>
    public static ImmutableArray<string> Pick(SyncSettings s, IReadOnlyList<ReplicationRow> rows, ClusterSnapshot c, string leader)
    {
        var streaming = rows
            .Where(r => r.FlushLsn is not null && !string.Equals(r.ApplicationName, leader, StringComparison.OrdinalIgnoreCase))
            .Select(r => (Row: r, Member: c.Members.FirstOrDefault(m => string.Equals(m.Name, r.ApplicationName, StringComparison.OrdinalIgnoreCase))))
            .Where(x => x.Member is { IsRunning: true, NoSync: false })
            .OrderBy(x => x.Member!.NoFailover)
            // "sync" > "quorum" > "potential" > "async": descending ordinal order ranks them as PostgreSQL does.
            .ThenByDescending(x => x.Row.SyncState, StringComparer.Ordinal)
            .ThenByDescending(x => x.Row.FlushLsn)
            .ToList();
        long newest = streaming.Count == 0 ? 0 : streaming.Max(x => x.Row.FlushLsn!.Value);
        return [.. streaming
            .Where(x => s.MaximumLagOnSyncNode <= 0 || newest - x.Row.FlushLsn!.Value <= s.MaximumLagOnSyncNode)
            .Take(s.NodeCount)
            .Select(x => x.Member!.Name)];
    }

    /// <summary>
    /// What the primary's WAL position was when <c>synchronous_standby_names</c> last changed, and who has
    /// since proven to hold everything: a newly named standby counts only once it is reported <c>sync</c>
    /// and has flushed past <see cref="Lsn"/> (commits acknowledged before the change may not be on it).
    /// <see cref="Lsn"/> is null while the walsenders have not all applied the new setting yet.
    /// </summary>
    public sealed record Mark(string StandbyNames, long? Lsn, ImmutableHashSet<string> Ready)
    {
        public static Mark None { get; } = new("\0", null, []);
    }

    /// <summary>Advances the mark by one observation of the primary (its setting, WAL position and <c>pg_stat_replication</c>).</summary>
    public static Mark Track(Mark m, string ssn, long? primaryLsn, IReadOnlyList<ReplicationRow> rows, SyncState key)
    {
        var named = ParseStandbyNames(ssn);
        if (ssn != m.StandbyNames)
            m = new Mark(ssn, null, m.Ready.Where(named.Contains).ToImmutableHashSet(StringComparer.OrdinalIgnoreCase));
        if (m.Lsn is null)
        {
            // Each walsender applies a reload on its own: until the priorities it reports agree with the
            // setting, an old synchronous standby may still be the one releasing commits.
            bool applied = rows.All(r => (r.SyncPriority > 0) == (named.Contains(r.ApplicationName) || named.Contains("*")));
            if (!applied || primaryLsn is null) return m;
            m = m with { Lsn = primaryLsn };
        }
        var ready = m.Ready.ToBuilder();
        foreach (var r in rows)
        {
            if (!named.Contains(r.ApplicationName) || ready.Contains(r.ApplicationName)) continue;
            if (key.IsSyncStandby(r.ApplicationName) || (r.SyncState == "sync" && r.FlushLsn >= m.Lsn)) ready.Add(r.ApplicationName);
        }
        return m with { Ready = ready.ToImmutable() };
    }

    /// <summary>Of <paramref name="picked"/>, those that confirm commits now: reported <c>sync</c> and ready under the mark.</summary>
    public static ImmutableArray<string> Confirmed(IReadOnlyList<string> picked, Mark m, IReadOnlyList<ReplicationRow> rows)
        => [.. picked.Where(n => m.Ready.Contains(n)
            && rows.Any(r => string.Equals(r.ApplicationName, n, StringComparison.OrdinalIgnoreCase) && r.SyncState == "sync"))];

    /// <summary>
    /// The value of <c>synchronous_standby_names</c> for these standbys: all of them must confirm
    /// (<c>N (a,b)</c>); none left gives <c>*</c> in strict mode (writes wait for any standby) or nothing.
    /// </summary>
    public static string StandbyNames(IReadOnlyList<string> names, bool strict)
    {
        if (names.Count == 0) return strict ? "*" : "";
        if (names.Count == 1) return Quote(names[0]);
        return $"{names.Count} ({string.Join(',', names.Select(Quote))})";
    }

    /// <summary>The standby names a value of <c>synchronous_standby_names</c> lists (FIRST/ANY/N forms, quoted names, <c>*</c>).</summary>
    public static ImmutableHashSet<string> ParseStandbyNames(string? ssn)
    {
        var names = ImmutableHashSet.CreateBuilder<string>(StringComparer.OrdinalIgnoreCase);
        if (string.IsNullOrWhiteSpace(ssn)) return names.ToImmutable();
        var body = ssn.Trim();
        int open = body.IndexOf('(', StringComparison.Ordinal);
        if (open >= 0 && body.EndsWith(')')) body = body[(open + 1)..^1];
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < body.Length; i++)
        {
            char ch = body[i];
            if (ch == '"')
            {
                if (quoted && i + 1 < body.Length && body[i + 1] == '"') { sb.Append('"'); i++; }
                else quoted = !quoted;
            }
            else if (ch == ',' && !quoted) { Add(); }
            else if (quoted || !char.IsWhiteSpace(ch)) sb.Append(ch);
        }
        Add();
        return names.ToImmutable();

        void Add()
        {
            if (sb.Length > 0) names.Add(sb.ToString());
            sb.Clear();
        }
    }

    /// <summary>A standby name as <c>synchronous_standby_names</c> needs it: bare when a plain identifier, else double-quoted.</summary>
    public static string Quote(string name)
        => name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '$')
            ? name
            : "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>Whether two name lists hold the same names (case-insensitive, order ignored).</summary>
    public static bool SameNames(IEnumerable<string> a, IEnumerable<string> b)
        => a.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(b);

    /// <summary>
    /// What a primary restarting in place (or promoted) must require before it acknowledges anything: the
    /// standbys the <c>sync</c> key still names for it, else <c>*</c> in strict mode, else nothing.
    /// </summary>
    public static string StandbyNamesAtStart(SyncSettings s, SyncState key, string me)
    {
        if (!s.Enabled) return "";
        var members = string.Equals(key.Leader, me, StringComparison.OrdinalIgnoreCase) ? key.Members : [];
        return StandbyNames(members, s.Strict);
    }
}
