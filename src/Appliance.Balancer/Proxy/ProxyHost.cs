using System.Collections.Immutable;
using Appliance.Balancer.Proxy.Checks;
using Appliance.Balancer.Proxy.DataPath;
using Appliance.Balancer.Proxy.Listening;
using Appliance.Balancer.Proxy.Pools;
using Appliance.Balancer.Proxy.Routing;
using Appliance.Balancer.Proxy.Stats;
using Appliance.Balancer.Tracking;
using Appliance.Configuration;
using Appliance.Etcd;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy;

/// <summary>
/// The proxy of one load-balancer node, assembled from the configuration: the health checks, the cluster
/// watch (with etcd discovery), one pool and one listener per <c>[[proxy.listener]]</c>, and the router
/// that feeds the pools. Also the proxy's own health as a VRRP tracked condition: up while every listener
/// accepts and, when there is a primary listener, a primary is routed.
/// </summary>
public sealed class ProxyHost : IAsyncDisposable
{
    static readonly TimeSpan HealthPoll = TimeSpan.FromSeconds(1);

    readonly ProxySection _proxy;
    readonly HealthChecks _checks;
    readonly ClusterWatch? _watch;
    readonly ProxyRouter _router;
    readonly ImmutableArray<(ProxyListenerSection Section, BackendPool Pool, ProxyListener Listener, ListenerStats Stats)> _listeners;
    readonly TrackedFlag _health;
    readonly DataPaths _dataPaths;
    readonly TimeProvider _time;
    readonly ILogger _log;
    ITimer? _healthTimer;

    ProxyHost(ApplianceConfig config, ILoggerFactory logs, TimeProvider time)
    {
        _proxy = config.Proxy;
        _time = time;
        _log = logs.CreateLogger("proxy");
        _checks = HealthChecks.Create(_proxy, time, logs.CreateLogger("proxy.check"));
        _watch = _proxy.Discovery == "etcd" ? ClusterWatch.Start(config.Etcd, config.Cluster, WatchOptions(_proxy), time, logs.CreateLogger("proxy.etcd")) : null;
        _dataPaths = new DataPaths(time, logs.CreateLogger("proxy.data"));
        var listeners = ImmutableArray.CreateBuilder<(ProxyListenerSection, BackendPool, ProxyListener, ListenerStats)>();
        foreach (var l in _proxy.Listener)
        {
            var log = logs.CreateLogger($"proxy.{l.Name}");
            var stats = new ListenerStats(l.Name);
            var pool = new BackendPool(l.Name, PoolSettings.From(_proxy, l), stats, time, log);
            var dataPath = _dataPaths.For(DataPathOf(l));
            listeners.Add((l, pool, new ProxyListener(l, _proxy, pool, stats, dataPath, log, time), stats));
        }
        _listeners = listeners.ToImmutable();
        _router = new ProxyRouter(_proxy, _listeners.Select(l => new RoutedPool(l.Section, l.Pool)), _checks, _watch, time, logs.CreateLogger("proxy.routing"));
        _health = new TrackedFlag("proxy", _proxy.TrackWeight, up: false);
    }

    /// <summary>The listener's <c>data_path</c>, or <c>proxy.data_path</c> when it does not say.</summary>
    string DataPathOf(ProxyListenerSection listener) => listener.DataPath ?? _proxy.DataPath;

    /// <summary>A laggard replica is re-admitted when it has caught up by half the allowed lag: member refreshes that move less are not worth a new snapshot.</summary>
    static ClusterWatchOptions WatchOptions(ProxySection proxy) => new() { PositionThreshold = proxy.MaximumReplicaLag / 2 };

    /// <summary>The proxy of <paramref name="config"/>; nothing listens until <see cref="Start"/>.</summary>
    public static ProxyHost Create(ApplianceConfig config, ILoggerFactory logs, TimeProvider time) => new(config, logs, time);

    /// <summary>
    /// The proxy's health for the VRRP instances (weight <c>proxy.track_weight</c>): down while a listener
    /// does not accept or no primary is routed, so a node whose proxy cannot serve gives up the VIP to a
    /// peer whose proxy can (when both see no primary, both drop alike and nothing moves).
    /// </summary>
    public ITrackedCondition Health => _health;

    /// <summary>Binds every listener (throws with the address when one cannot be bound) and starts routing.</summary>
    public void Start()
    {
        _router.Start();
        foreach (var l in _listeners) l.Listener.Start();
        _router.Changed += _ => UpdateHealth();
        _healthTimer = _time.CreateTimer(_ => UpdateHealth(), null, TimeSpan.Zero, HealthPoll);
    }

    void UpdateHealth()
    {
        var needsPrimary = _listeners.Any(l => l.Section.Role == "primary");
        _health.Set(_listeners.All(l => l.Listener.IsAccepting) && (!needsPrimary || _router.Status.SeesPrimary));
    }

    /// <summary>Everything at once, for /metrics, /proxy and /stats.</summary>
    public ProxyStatus Status()
    {
        var routing = _router.Status;
        return new ProxyStatus(
            _proxy.Discovery,
            _watch is null ? null : routing.EtcdReadable,
            routing.SeesPrimary,
            [.. _listeners.Select(l => new ListenerStatus(
                l.Section.Name, l.Section.Role, l.Listener.LocalEndPoint?.ToString() ?? l.Section.Bind,
                l.Listener.DataPath, DataPathOf(l.Section), _dataPaths.Unavailable(DataPathOf(l.Section)), l.Listener.IsAccepting, l.Stats,
                [.. l.Pool.Servers.Select(b => b.Name)], l.Pool.Reason, [.. l.Pool.Stats]))],
            _checks.Statuses,
            _router.RouteChanges);
    }

    /// <summary>
    /// Ends the sessions of every listener bound to one of <paramref name="addresses"/> (a VRRP
    /// instance's VIPs, when this node stops being their master); listeners on other addresses keep theirs.
    /// </summary>
    public void DropSessionsOn(IReadOnlyCollection<string> addresses, string why)
    {
        foreach (var l in _listeners)
        {
            if (l.Listener.LocalEndPoint is not { } bound || !addresses.Contains(bound.Address.ToString())) continue;
            var dropped = l.Listener.DropSessions();
            if (dropped > 0) _log.SessionsDropped(l.Section.Name, dropped, why);
        }
    }

    /// <summary>Where each listener is bound (the port the kernel chose for port 0), by name.</summary>
    public IReadOnlyDictionary<string, string> Bound => _listeners.ToDictionary(l => l.Section.Name, l => l.Listener.LocalEndPoint?.ToString() ?? l.Section.Bind);

    public async ValueTask DisposeAsync()
    {
        if (_healthTimer is not null) await _healthTimer.DisposeAsync();
        foreach (var l in _listeners) await l.Listener.StopAsync();
        foreach (var l in _listeners) await l.Pool.StopAsync();
        _router.Dispose();
        await _checks.DisposeAsync();
        if (_watch is not null) await _watch.DisposeAsync();
        foreach (var l in _listeners) await l.Listener.DisposeAsync();
        _dataPaths.Dispose();
    }
}
