using System.Collections.Immutable;
using Appliance.Cluster;

namespace Appliance.Proxy;

/// <summary>What a backend's own health check says: up or down (after rise/fall), and the role it reported, when the check can tell.</summary>
public sealed record BackendCheck(bool Up, BackendRole Role);

/// <summary>The role a check saw: the HTTP check asks <c>/primary</c> or <c>/replica</c>, the PostgreSQL check <c>pg_is_in_recovery()</c>; a plain TCP check cannot tell.</summary>
public enum BackendRole { Unknown, Primary, Replica }

/// <summary>A PostgreSQL server the proxy may send clients to.</summary>
public sealed record Backend(string Name, string Host, int Port);

/// <summary>Where each pool sends new connections now, and why (for the log and the status page).</summary>
public sealed record Routes(Backend? Primary, ImmutableArray<Backend> Replicas, string Reason);

/// <summary>How the replica pool behaves.</summary>
public sealed record RoutingOptions
{
    /// <summary>With no healthy replica, read-only clients go to the primary rather than wait.</summary>
    public bool ReplicasFallBackToPrimary { get; init; } = true;
    /// <summary>A replica further behind the leader's last published position than this (bytes) takes no clients; null: no limit.</summary>
    public long? MaximumReplicaLag { get; init; }
    /// <summary>
    /// Static discovery with a check that cannot tell the role (tcp, pgsql): the one backend that is up
    /// takes writes, as a plain HAProxy backend would send them; never when two are up, since nothing
    /// says which of them is the primary.
    /// </summary>
    public bool LoneUpBackendIsPrimary { get; init; }
}

/// <summary>
/// The proxy's routing decision, pure. With etcd readable it follows the cluster: writes go only to the
/// node that holds the leader key AND reports itself primary (its own check, else its member key) — never
/// to a deposed primary that has not noticed yet, and to nobody while the key is between holders (the
/// proxy holds new connections meanwhile). Without etcd the health checks are the backstop: the one
/// backend whose check says primary, and nobody when two do.
/// </summary>
public static class RoutingTable
{
    /// <param name="cluster">The last snapshot of the cluster keys, or null when etcd cannot be read.</param>
    /// <param name="backends">Every backend the proxy knows (configured, or learnt from earlier snapshots): the backstop's list.</param>
    /// <param name="checks">Each backend's health, by name.</param>
    /// <param name="options">How the replica pool behaves.</param>
    /// <param name="now">The time a scheduled switchover is compared with.</param>
    public static Routes Compute(ClusterSnapshot? cluster, IReadOnlyCollection<Backend> backends, IReadOnlyDictionary<string, BackendCheck> checks, RoutingOptions options, DateTimeOffset now)
    {
        var (primary, why) = cluster is null ? PrimaryFromChecks(backends, checks, options) : PrimaryFromCluster(cluster, checks, now);
        var replicas = cluster is null
            ? [.. backends.Where(b => b != primary && checks.TryGetValue(b.Name, out var k) && k.Up
                && (k.Role == BackendRole.Replica || (options.LoneUpBackendIsPrimary && k.Role == BackendRole.Unknown)))]
            : ReplicasFromCluster(cluster, checks, options);
        if (replicas.IsEmpty && options.ReplicasFallBackToPrimary && primary is not null)
            return new(primary, [primary], why + "; no healthy replica: read-only clients go to the primary");
        return new(primary, replicas, why);
    }

    static (Backend?, string) PrimaryFromCluster(ClusterSnapshot c, IReadOnlyDictionary<string, BackendCheck> checks, DateTimeOffset now)
    {
        if (c.Leader is null) return (null, "the leader key is free: holding write connections until a new primary takes it");
        // A switchover is about to stop the primary: new clients wait for the new one rather than meet
        // "the database system is shutting down" (patronictl and our API write this key first).
        if (FailoverRequest.From(c) is { } f && f.Member != c.Leader.Name && (f.Leader is null || f.Leader == c.Leader.Name) && (f.ScheduledAt is null || f.ScheduledAt <= now))
            return (null, $"a switchover from {c.Leader.Name}{(f.Member is null ? "" : $" to {f.Member}")} is under way: holding write connections until the new primary takes over");
        if (c.LeaderMember is not { } m || BackendOf(m) is not { } b) return (null, $"{c.Leader.Name} holds the leader key but has published no address yet");
        if (!checks.TryGetValue(m.Name, out var check) || !check.Up) return (null, $"{m.Name} holds the leader key but its health check fails");
        if (RoleOf(m, check) != BackendRole.Primary) return (null, $"{m.Name} holds the leader key but does not report itself primary yet");
        return (b, $"{m.Name} holds the leader key and reports itself primary");
    }

    static (Backend?, string) PrimaryFromChecks(IReadOnlyCollection<Backend> backends, IReadOnlyDictionary<string, BackendCheck> checks, RoutingOptions options)
    {
        var primaries = backends.Where(b => checks.TryGetValue(b.Name, out var k) && k.Up && k.Role == BackendRole.Primary).ToList();
        if (primaries.Count == 0 && options.LoneUpBackendIsPrimary)
        {
            var up = backends.Where(b => checks.TryGetValue(b.Name, out var k) && k.Up).ToList();
            return up.Count switch
            {
                0 => (null, "no backend's check passes"),
                1 => (up[0], $"{up[0].Name} is the only backend whose check passes (static discovery, a check that cannot tell the role)"),
                _ => (null, $"{string.Join(", ", up.Select(b => b.Name))} all pass a check that cannot tell the role: sending writes to none"),
            };
        }
        return primaries.Count switch
        {
            0 => (null, "etcd cannot be read and no backend's check says primary"),
            1 => (primaries[0], $"etcd cannot be read: {primaries[0].Name} is the only backend whose check says primary"),
            _ => (null, $"etcd cannot be read and {string.Join(", ", primaries.Select(b => b.Name))} all say primary: sending writes to none"),
        };
    }

    static ImmutableArray<Backend> ReplicasFromCluster(ClusterSnapshot c, IReadOnlyDictionary<string, BackendCheck> checks, RoutingOptions o)
        => [.. c.Members
            .Where(m => m.Name != c.Leader?.Name && m.IsRunning && !m.NoLoadBalance)
            .Where(m => checks.TryGetValue(m.Name, out var k) && k.Up && RoleOf(m, k) == BackendRole.Replica)
            .Where(m => o.MaximumReplicaLag is not long max || c.LastLsn is not long last || m.Data.XlogLocation is not long at || last - at <= max)
            .Select(BackendOf).OfType<Backend>()];

    /// <summary>The role the backend's own check saw; a check that cannot tell (plain TCP) defers to the node's member key.</summary>
    static BackendRole RoleOf(Member m, BackendCheck check)
        => check.Role != BackendRole.Unknown ? check.Role : m.IsPrimaryRole ? BackendRole.Primary : m.Data.Role == "replica" ? BackendRole.Replica : BackendRole.Unknown;

    static Backend? BackendOf(Member m) => m.PostgresEndpoint is var (host, port) ? new Backend(m.Name, host, port) : null;
}
