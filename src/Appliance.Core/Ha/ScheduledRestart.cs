using System.Globalization;
using Appliance.Node;

namespace Appliance.Ha;

/// <summary>
/// A restart of PostgreSQL an operator scheduled on this node (<c>POST /restart</c> with <c>schedule</c>).
/// As in Patroni, a node keeps at most one, in memory only: it is published in the member key, and a
/// restarted agent has forgotten it.
/// </summary>
public sealed record ScheduledRestart
{
    public required DateTimeOffset Schedule { get; init; }
    /// <summary>Restart only in this role (<c>master</c>/<c>primary</c> or <c>replica</c>).</summary>
    public string? Role { get; init; }
    /// <summary>Restart only when the running server is older than this version (Patroni's X.Y or X.Y.Z).</summary>
    public string? PostgresVersion { get; init; }
    /// <summary>Restart only when a changed setting waits for a restart.</summary>
    public bool RestartPending { get; init; }
    /// <summary>Patroni's <c>timeout</c>, in seconds, kept and published as given.</summary>
    public int? Timeout { get; init; }
    /// <summary>When the postmaster had started when the restart was scheduled: a restart since then makes this one moot.</summary>
    public DateTimeOffset? PostmasterStartTime { get; init; }
}

public enum RestartVerdict { Wait, Run, Drop }

/// <summary>What to do with a scheduled restart this cycle, and why.</summary>
public readonly record struct RestartDecision(RestartVerdict Verdict, string Reason);

/// <summary>
/// Patroni's <c>evaluate_scheduled_restart</c>, <c>should_run_scheduled_action</c> and <c>restart_matches</c>
/// without the I/O. One difference: Patroni sleeps inside its cycle up to <c>loop_wait</c> until the
/// moment; our loop wakes up at the moment instead, so the restart is due only once it has come.
/// </summary>
public static class RestartSchedule
{
    public static RestartDecision Evaluate(
        ScheduledRestart r, PostgresState pg, bool paused, bool clusterHasLeader, bool actionInProgress, TimeSpan loopWait, DateTimeOffset now)
    {
        if (actionInProgress) return Wait("another action is in progress");
        if (r.PostmasterStartTime is { } then && pg.PostmasterStartTime is { } started && then != started)
            return new(RestartVerdict.Drop, $"postgres restart has already happened at {started:O}");
        // Patroni leaves a scheduled action alone while paused: it runs after resume, unless stale by then.
        if (paused) return Wait("the cluster is paused");
        var delta = r.Schedule - now;
        if (delta > TimeSpan.Zero) return Wait($"awaiting restart at {r.Schedule:O} (in {delta.TotalSeconds:0} seconds)");
        // A cycle that comes more than 1.5 x loop_wait late finds things bad enough not to restart.
        if (delta < -TimeSpan.FromSeconds((int)(loopWait.TotalSeconds * 1.5)))
            return new(RestartVerdict.Drop, $"found a stale scheduled restart ({r.Schedule:O}), cleaning up");
        // Patroni evaluates it only in a healthy cluster with PostgreSQL up; meanwhile it may grow stale.
        if (!clusterHasLeader) return Wait("the cluster has no leader");
        if (!pg.PostmasterRunning) return Wait("PostgreSQL is not running");
        if (UnmetCondition(r.Role, r.PostgresVersion, r.RestartPending, pg) is { } unmet)
            return new(RestartVerdict.Drop, $"not proceeding with the restart: {unmet}");
        return new(RestartVerdict.Run, $"scheduled restart at {r.Schedule:O}");
    }

    /// <summary>The first condition of a restart that does not hold right now (Patroni's texts), or null.</summary>
    public static string? UnmetCondition(string? role, string? postgresVersion, bool restartPending, PostgresState pg)
    {
        var current = pg.IsPrimary ? "master" : "replica";
        if (role is not null && role != current && !(role == "primary" && current == "master")) return "host role mismatch";
        if (postgresVersion is not null && (VersionToInt(postgresVersion, out _) is not int wanted || wanted <= (pg.ServerVersion ?? int.MaxValue)))
            return "postgres version mismatch";
        if (restartPending && !pg.PendingRestart) return "pending restart flag is not set";
        return null;
    }

    /// <summary>
    /// Patroni's <c>postgres_version_to_int</c>: "9.5.3" → 90503, "15.4" → 150004; null with Patroni's
    /// error text for "15", "9.6" or "a.b".
    /// </summary>
    public static int? VersionToInt(string version, out string? error)
    {
        error = null;
        var parts = version.Split('.');
        var numbers = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out numbers[i]))
            {
                error = $"Invalid PostgreSQL version: {version}";
                return null;
            }
        }
        if (numbers.Length < 2 || numbers.Length == 2 && numbers[0] < 10 || numbers.Length > 3)
        {
            error = $"Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: {version}";
            return null;
        }
        return numbers.Length == 2 ? numbers[0] * 10000 + numbers[1] : numbers[0] * 10000 + numbers[1] * 100 + numbers[2];
    }

    static RestartDecision Wait(string why) => new(RestartVerdict.Wait, why);
}
