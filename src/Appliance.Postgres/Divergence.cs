using System.Globalization;
using System.Text.RegularExpressions;
using Appliance.Node;

namespace Appliance.Postgres;

/// <summary>Where a data directory's WAL ends: a timeline and an LSN, and whether it was a standby then.</summary>
public readonly record struct WalEnd(long Timeline, long Lsn, bool InRecovery);

/// <summary>One line of a timeline history file: WAL of <see cref="ParentTimeline"/> up to <see cref="Switchpoint"/> is shared with the child.</summary>
public readonly record struct HistoryEntry(long ParentTimeline, long Switchpoint);

/// <summary>
/// Whether a node's history has diverged from a source's, as Patroni's <c>rewind.py</c> decides it, and the
/// parsing it needs (pg_controldata, timeline history files, pg_waldump's output). Pure: every rule is a
/// table test; <see cref="PostgresController"/> gathers the inputs.
/// </summary>
public static partial class Divergence
{
    /// <summary>An LSN as PostgreSQL prints it (<c>%X/%X</c>).</summary>
    public static string FormatLsn(long lsn)
        => string.Create(CultureInfo.InvariantCulture, $"{(uint)(lsn >> 32):X}/{(uint)lsn:X}");

    public static bool TryParseLsn(string? text, out long lsn)
    {
        lsn = 0;
        if (text is null) return false;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0
            || !uint.TryParse(text.AsSpan(0, slash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint hi)
            || !uint.TryParse(text.AsSpan(slash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint lo))
            return false;
        lsn = (long)(((ulong)hi << 32) | lo);
        return true;
    }

    /// <summary>pg_controldata's "Key:   value" lines (the key ends at the first colon; values may hold colons).</summary>
    public static Dictionary<string, string> ParseControlData(string output)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) continue;
            d[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        return d;
    }

    public const string StateKey = "Database cluster state";

    /// <summary>A state pg_rewind accepts as a clean shutdown.</summary>
    public static bool ShutDownCleanly(IReadOnlyDictionary<string, string> controlData)
        => controlData.GetValueOrDefault(StateKey) is "shut down" or "shut down in recovery";

    /// <summary>
    /// The end of local WAL from pg_control, or null when it cannot be told without crash recovery (a
    /// primary that crashed: its WAL goes past the last checkpoint). A standby (shut down, or killed in
    /// archive recovery) has replayed at least up to its minimum recovery point; a primary shut down
    /// cleanly ends at its shutdown checkpoint. A standby whose minimum recovery point is 0/0 was a
    /// primary until its last checkpoint, so it counts as one (as in Patroni).
    /// </summary>
    public static WalEnd? LocalEnd(IReadOnlyDictionary<string, string> cd)
    {
        string state = cd.GetValueOrDefault(StateKey) ?? "";
        if (state is "shut down in recovery" or "in archive recovery"
            && TryParseLsn(cd.GetValueOrDefault("Minimum recovery ending location"), out long minLsn)
            && long.TryParse(cd.GetValueOrDefault("Min recovery ending loc's timeline"), NumberStyles.None, CultureInfo.InvariantCulture, out long minTli)
            && minLsn != 0 && minTli != 0)
            return new WalEnd(minTli, minLsn, InRecovery: true);
        if (state is "shut down" or "shut down in recovery" or "in archive recovery"
            && TryParseLsn(cd.GetValueOrDefault("Latest checkpoint location"), out long cpLsn)
            && long.TryParse(cd.GetValueOrDefault("Latest checkpoint's TimeLineID"), NumberStyles.None, CultureInfo.InvariantCulture, out long cpTli))
            return new WalEnd(cpTli, cpLsn, InRecovery: false);
        return null;
    }

    /// <summary>A timeline history file: "parentTLI&lt;tab&gt;switchpoint&lt;tab&gt;reason" lines; comments and blanks skipped.</summary>
    public static List<HistoryEntry> ParseHistory(string content)
    {
        var list = new List<HistoryEntry>();
        foreach (var raw in content.Split('\n'))
        {
            var f = raw.Trim().Split('\t');
            if (f.Length >= 2
                && long.TryParse(f[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long tli)
                && TryParseLsn(f[1].Trim(), out long lsn))
                list.Add(new HistoryEntry(tli, lsn));
        }
        return list;
    }

    /// <summary>
    /// Patroni's <c>_check_timeline_and_lsn</c>. Same timeline: no divergence (at most one side is behind).
    /// Local timeline newer than the source's: the source cannot know it. Otherwise find where the source's
    /// history left the local timeline: a standby diverged when it replayed past that switchpoint; a former
    /// primary unless its shutdown checkpoint is exactly the last record before it (a clean switchover:
    /// <paramref name="checkpointEnd"/>, where that record ends).
    /// </summary>
    public static RewindCheck Decide(WalEnd local, long sourceTimeline, IReadOnlyList<HistoryEntry> sourceHistory, long? checkpointEnd)
    {
        string at = $"local timeline {local.Timeline} at {FormatLsn(local.Lsn)}{(local.InRecovery ? " (standby)" : "")}";
        if (local.Timeline > sourceTimeline)
            return RewindCheck.Needed($"{at} is newer than the source's timeline {sourceTimeline}");
        if (local.Timeline == sourceTimeline)
            return RewindCheck.NotNeeded($"{at}: the source is on the same timeline");
        foreach (var h in sourceHistory)
        {
            if (h.ParentTimeline == local.Timeline)
            {
                string fork = $"the source's timeline {sourceTimeline} forked from timeline {h.ParentTimeline} at {FormatLsn(h.Switchpoint)}";
                if (local.InRecovery)
                    return local.Lsn > h.Switchpoint
                        ? RewindCheck.Needed($"{at} replayed past where {fork}")
                        : RewindCheck.NotNeeded($"{at} is not past where {fork}");
                if (local.Lsn >= h.Switchpoint)
                    return RewindCheck.Needed($"{at} is past where {fork}");
                return checkpointEnd == h.Switchpoint
                    ? RewindCheck.NotNeeded($"{at}: its shutdown checkpoint ends where {fork}")
                    : RewindCheck.Needed($"{at}: its shutdown checkpoint ends at {(checkpointEnd is long e ? FormatLsn(e) : "an unknown position")}, not where {fork}");
            }
            if (h.ParentTimeline > local.Timeline)
                return RewindCheck.Needed($"{at} is not in the source's history (it goes on from timeline {h.ParentTimeline})");
        }
        return RewindCheck.Needed($"{at} is not in the source's history up to timeline {sourceTimeline}");
    }

    /// <summary>
    /// Where the record at <paramref name="start"/> ends, from <c>pg_waldump -s start -n 2</c> when that record
    /// is the last one: pg_waldump prints it and then fails to read the next, naming the next record's position
    /// ("error in WAL record at 0/3000028: invalid record length at 0/30000A0: wanted 24, got 0"). A record's
    /// length depends on version and alignment, so reading it back is the only reliable way (Patroni's
    /// <c>_get_checkpoint_end</c>). Null when the output has another shape (a record follows, unreadable WAL).
    /// </summary>
    public static long? ParseRecordEnd(string waldumpOutput, long start)
    {
        var lines = waldumpOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Count(l => l.StartsWith("rmgr:", StringComparison.Ordinal)) != 1) return null;
        string marker = $"error in WAL record at {FormatLsn(start)}: ";
        foreach (var line in lines)
        {
            int i = line.IndexOf(marker, StringComparison.Ordinal);
            if (i < 0) continue;
            var m = NextLsn().Match(line, i + marker.Length);
            if (m.Success && TryParseLsn(m.Groups[1].Value, out long end) && end > start) return end;
        }
        return null;
    }

    [GeneratedRegex(@"\bat ([0-9A-F]+/[0-9A-F]+)")]
    private static partial Regex NextLsn();

    /// <summary>The most telling line of pg_rewind's output (its last "error:"/"fatal:" line), for the exception.</summary>
    public static string FailureReason(string output, int exitCode)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var error = lines.LastOrDefault(l => l.Contains("error:", StringComparison.Ordinal) || l.Contains("fatal:", StringComparison.Ordinal));
        return error ?? $"exit code {exitCode}";
    }
}
