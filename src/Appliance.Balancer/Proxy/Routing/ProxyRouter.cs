using System.Collections.Immutable;
using Appliance.Balancer.Proxy.Checks;
using Appliance.Balancer.Proxy.Pools;
using Appliance.Cluster;
using Appliance.Configuration;
using Appliance.Etcd;
using Appliance.Proxy;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy.Routing;

/// <summary>A listener's pool and the role it serves.</summary>
public sealed record RoutedPool(ProxyListenerSection Listener, BackendPool Pool);

/// <summary>What routing looks like now, for the status page, metrics and the VRRP tracker.</summary>
/// <param name="Routes">The routing decision (without any replica listener's fallback to the primary), with its reason.</param>
/// <param name="Pools">The servers each listener sends new clients to, by listener name.</param>
/// <param name="FollowsEtcd">Discovery is etcd.</param>
/// <param name="EtcdReadable">The cluster keys can be read now (always false with static discovery).</param>
/// <param name="LastChange">The reason label of the last change of some pool (<see cref="RouteChangeReason"/>), or "" before any.</param>
/// <param name="ChangedAt">When some pool last changed.</param>
public sealed record RoutingStatus(Routes Routes, ImmutableDictionary<string, ImmutableArray<Backend>> Pools, bool FollowsEtcd, bool EtcdReadable, string LastChange, DateTimeOffset? ChangedAt)
{
    /// <summary>The proxy has a primary to send writes to (the VRRP tracker's "sees a primary").</summary>
    public bool SeesPrimary => Routes.Primary is not null;
}

/// <summary>
/// The glue between what the proxy learns and where its pools send clients. With <c>discovery = "etcd"</c>
/// each snapshot of the <see cref="ClusterWatch"/> teaches it the members (addresses, APIs: the checks'
/// targets) and, with the checks' verdicts, gives the routes (<see cref="RoutingTable.Compute"/>); with
/// <c>static</c> the configured backends and their checks alone. Every snapshot and every change of a
/// check recomputes the routes and updates each pool: primary listeners get the primary, replica
/// listeners the replicas (or the primary as their fallback).
/// </summary>
/// <remarks>
/// A new leader is checked at once (<see cref="IHealthChecks.CheckNow"/>), so writes do not wait an
/// <c>inter</c> for its check to confirm it; and while some pool has nobody the checks run at
/// <c>fast_inter</c>. One lock serializes recomputations; a check raising <c>Changed</c> from within
/// <see cref="IHealthChecks.Track"/> is folded into the running one.
/// </remarks>
public sealed partial class ProxyRouter : IDisposable
{
    readonly object _gate = new();
    readonly ProxySection _proxy;
    readonly ImmutableArray<RoutedPool> _pools;
    readonly IHealthChecks _checks;
    readonly ClusterWatch? _watch;
    readonly TimeProvider _time;
    readonly ILogger? _log;
    readonly BackendDiscovery _discovery;
    readonly Dictionary<string, long> _changes = new(StringComparer.Ordinal);

    ClusterSnapshot? _cluster;
    bool _everSeenCluster;
    RoutingStatus _status;
    bool _computing;
    string? _pending;
    bool _started;
    bool _disposed;

    /// <param name="proxy">The <c>[proxy]</c> section: discovery, backends, lag limit.</param>
    /// <param name="pools">Each listener's pool.</param>
    /// <param name="checks">The health checks (tracked, read, hurried here).</param>
    /// <param name="watch">The cluster's keys; required with etcd discovery, ignored with static.</param>
    /// <param name="time">The clock of <see cref="RoutingStatus.ChangedAt"/>.</param>
    /// <param name="log">Where each routing change is logged with its reason.</param>
    public ProxyRouter(ProxySection proxy, IEnumerable<RoutedPool> pools, IHealthChecks checks, ClusterWatch? watch, TimeProvider time, ILogger? log = null)
    {
        _proxy = proxy;
        _pools = [.. pools];
        _checks = checks;
        _watch = proxy.Discovery == "etcd" ? watch ?? throw new ArgumentNullException(nameof(watch), "discovery = \"etcd\" needs a cluster watch") : null;
        _time = time;
        _log = log;
        _discovery = new BackendDiscovery(proxy.Backend);
        foreach (var r in RouteChangeReason.All) _changes[r] = 0;
        _status = new RoutingStatus(new Routes(null, [], "not started"), ImmutableDictionary<string, ImmutableArray<Backend>>.Empty, _watch is not null, false, "", null);
    }

    /// <summary>The routes now.</summary>
    public RoutingStatus Status { get { lock (_gate) return _status; } }

    /// <summary>Changes of some pool's servers, by <see cref="RouteChangeReason"/> label.</summary>
    public IReadOnlyDictionary<string, long> RouteChanges { get { lock (_gate) return new Dictionary<string, long>(_changes); } }

    /// <summary>Raised after some pool's servers changed (outside no lock guarantee: keep it quick).</summary>
    public event Action<RoutingStatus>? Changed;

    /// <summary>Tracks the known servers, computes the first routes and follows the watch and the checks from now on.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_started) return;
            _started = true;
            _checks.Changed += OnChecksChanged;
            if (_watch is not null)
            {
                _watch.Changed += OnSnapshot;
                if (_watch.Current is { } first) Take(first);
            }
            _checks.Track(_discovery.Targets);
            Recompute(RouteChangeReason.Startup);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _checks.Changed -= OnChecksChanged;
            if (_watch is not null) _watch.Changed -= OnSnapshot;
        }
    }

    void OnChecksChanged()
    {
        lock (_gate)
        {
            if (!_disposed) Recompute(RouteChangeReason.CheckChanged);
        }
    }

    void OnSnapshot(ClusterSnapshot? snapshot)
    {
        lock (_gate)
        {
            if (_disposed) return;
            var previous = _cluster;
            var firstEver = !_everSeenCluster;
            Take(snapshot);
            var reason = snapshot is null ? RouteChangeReason.EtcdLost
                : firstEver ? RouteChangeReason.Startup
                : previous is null ? RouteChangeReason.EtcdBack
                : previous.Leader?.Name != snapshot.Leader?.Name ? RouteChangeReason.LeaderChanged
                : RouteChangeReason.MemberChanged;
            if (snapshot is not null && previous?.Leader?.Name != snapshot.Leader?.Name)
            {
                // Hurry the checks of the new leader (writes wait for its "primary") and of the old one
                // (its replica role brings it back to the replica pool).
                if (snapshot.Leader?.Name is { } leader) _checks.CheckNow(leader);
                if (previous?.Leader?.Name is { } old) _checks.CheckNow(old);
            }
            Recompute(reason);
        }
    }

    /// <summary>Holds <paramref name="snapshot"/> and learns its members. Under the lock.</summary>
    void Take(ClusterSnapshot? snapshot)
    {
        _cluster = snapshot;
        if (snapshot is null) return;
        _everSeenCluster = true;
        if (_discovery.Learn(snapshot)) _checks.Track(_discovery.Targets);
    }

    /// <summary>Recomputes the routes; a recomputation asked for while one runs (a re-entrant event) runs right after it. Under the lock.</summary>
    void Recompute(string reason)
    {
        if (_computing)
        {
            _pending = reason;
            return;
        }
        _computing = true;
        RoutingStatus? changed = null;
        try
        {
            for (string? next = reason; next is not null; next = _pending)
            {
                _pending = null;
                changed = ComputeOnce(next) ?? changed;
            }
        }
        finally
        {
            _computing = false;
        }
        if (changed is not null) Changed?.Invoke(changed);
    }

    RoutingStatus? ComputeOnce(string reason)
    {
        var checks = _checks.Statuses.ToDictionary(kv => kv.Key, kv => kv.Value.ToBackendCheck(), StringComparer.Ordinal);
        var cluster = _watch is null ? null : _cluster;
        var options = new RoutingOptions { MaximumReplicaLag = _proxy.MaximumReplicaLag, ReplicasFallBackToPrimary = false, LoneUpBackendIsPrimary = _watch is null };
        var backends = _discovery.Backends;
        var now = _time.GetUtcNow();
        var routes = RoutingTable.Compute(cluster, backends, checks, options, now);
        var withFallback = _pools.Any(p => p.Listener.Role == "replica" && p.Listener.FallbackToPrimary)
            ? RoutingTable.Compute(cluster, backends, checks, options with { ReplicasFallBackToPrimary = true }, now)
            : routes;

        var pools = ImmutableDictionary.CreateBuilder<string, ImmutableArray<Backend>>(StringComparer.Ordinal);
        var anyChanged = false;
        var anyEmpty = false;
        foreach (var (listener, pool) in _pools)
        {
            var (servers, why) = listener.Role == "primary"
                ? (routes.Primary is { } p ? [p] : ImmutableArray<Backend>.Empty, routes.Reason)
                : listener.FallbackToPrimary ? (withFallback.Replicas, withFallback.Reason) : (routes.Replicas, routes.Reason);
            anyChanged |= !pool.Servers.SequenceEqual(servers);
            anyEmpty |= servers.IsEmpty;
            pool.Update(servers, why);
            pools[listener.Name] = servers;
        }
        _checks.Fast = anyEmpty;

        var etcdReadable = _watch is not null && _cluster is not null;
        var first = _status.ChangedAt is null;
        if (!anyChanged && !first)
        {
            _status = _status with { Routes = routes, EtcdReadable = etcdReadable };
            return null;
        }
        _changes[reason] = _changes.GetValueOrDefault(reason) + 1;
        _status = new RoutingStatus(routes, pools.ToImmutable(), _watch is not null, etcdReadable, reason, _time.GetUtcNow());
        if (_log is not null)
        {
            var described = string.Join("; ", _status.Pools.Select(kv => $"{kv.Key} -> {(kv.Value.IsEmpty ? "nobody" : string.Join(", ", kv.Value.Select(b => b.Name)))}"));
            LogRouting(_log, reason, described, routes.Reason);
        }
        return _status;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "routing ({Cause}): {Pools}: {Reason}")]
    static partial void LogRouting(ILogger log, string cause, string pools, string reason);
}
