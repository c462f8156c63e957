using Appliance.Agent.Ha;
using Appliance.Node;

namespace Appliance.Agent.Api;

/// <summary>
/// The status code of each health endpoint, as Patroni 3 answers them (HAProxy and other load
/// balancers key on these codes). Pure: the caller supplies what the loop saw and a fresh probe.
/// One difference on purpose: <c>/primary</c> needs both the leader key and a PostgreSQL that
/// really runs as a primary, so a crashed leader is never advertised as writable.
/// </summary>
public static class HealthRules
{
    public readonly record struct Facts(AgentStatus Status, PostgresState Postgres, bool NoLoadBalance, bool LeaseValid, long? MaxLag);

    public static int StatusCode(string path, Facts f)
    {
        var pg = f.Postgres;
        var running = pg.Accepting;
        var isLeader = f.LeaseValid;
        var leaderCode = isLeader ? 200 : 503;
        var primaryCode = isLeader && pg.IsPrimary ? 200 : 503;
        var leaderOptime = f.Status.Cluster.LastLsn ?? 0;
        var replayed = pg.ReplayLsn ?? 0;
        var lagging = f.MaxLag is long max && leaderOptime > 0 && leaderOptime > replayed + max;
        var replicaCode = !f.NoLoadBalance && !lagging && pg.IsReplica ? 200 : 503;
        var sync = pg.IsReplica && f.Status.SyncStandby;

        path = path.TrimEnd('/');
        if (path.Length == 0) path = "/primary";
        return path switch
        {
            "/standby-leader" or "/standby_leader" => 503,
            "/leader" => leaderCode,
            "/primary" or "/master" or "/read-write" => primaryCode,
            "/replica" => replicaCode,
            "/read-only" => primaryCode == 200 ? 200 : replicaCode,
            "/health" => running ? 200 : 503,
            "/sync" or "/synchronous" => sync ? replicaCode : 503,
            "/async" or "/asynchronous" => sync ? 503 : replicaCode,
            "/read-only-sync" or "/read-only-synchronous" => primaryCode == 200 ? 200 : sync ? replicaCode : 503,
            _ => 404,
        };
    }

    /// <summary>Liveness: the HA loop ran recently (ttl on a primary, twice that on a replica).</summary>
    public static int Liveness(AgentStatus s, TimeSpan ttl, DateTimeOffset now)
    {
        var threshold = s.Postgres.IsPrimary ? ttl : ttl * 2;
        return s.LastCycleAt is { } at && now - at < threshold ? 200 : 503;
    }

    /// <summary>Readiness: the leader, or a running node that can see the cluster.</summary>
    public static int Readiness(Facts f)
        => f.LeaseValid ? 200 : f.Postgres.Accepting && f.Status.StoreLastSeen is not null ? 200 : 503;

    /// <summary>Parses <c>?lag=</c>: bytes, or with a unit (kB, MB, GB) as Patroni accepts.</summary>
    public static long? ParseLag(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var v = value.Trim();
        long unit = 1;
        foreach (var (suffix, mult) in new (string, long)[] { ("kB", 1024), ("MB", 1 << 20), ("GB", 1 << 30), ("B", 1) })
        {
            if (v.EndsWith(suffix, StringComparison.Ordinal))
            {
                unit = mult;
                v = v[..^suffix.Length];
                break;
            }
        }
        return long.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n * unit : null;
    }
}
