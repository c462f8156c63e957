using Appliance.Balancer.Proxy;
using Appliance.Proxy;
using Prometheus;

namespace Appliance.Balancer.Http;

/// <summary>
/// The proxy's <c>/metrics</c>, <c>appliance_proxy_*</c>, per listener and per backend, filled at scrape
/// time from <see cref="ProxyStatus"/>. The counters are the sessions' own lock-free totals, so
/// a scrape costs nothing on the data path. Label values are configured names and frozen words.
/// </summary>
public static class ProxyMetrics
{
    static readonly CheckLayer[] Layers = Enum.GetValues<CheckLayer>();
    static readonly BackendRole[] Roles = Enum.GetValues<BackendRole>();

    /// <summary>Adds the proxy's metrics to the balancer's registry, read from <paramref name="status"/> at every scrape.</summary>
    public static void Register(BalancerMetrics balancer, Func<ProxyStatus?> status)
    {
        var f = Prometheus.Metrics.WithCustomRegistry(balancer.Registry);
        var accepting = f.CreateGauge("appliance_proxy_listener_accepting", "1 while the listener's sockets accept connections.", "listener");
        var dataPath = f.CreateGauge("appliance_proxy_listener_data_path", "1 for the data path the listener's sessions use (auto, sockmap, splice, copy).", "listener", "path");
        var dataPathFallback = f.CreateGauge("appliance_proxy_listener_data_path_fallback", "1 when the listener's configured data path is not available here and copy runs instead.", "listener", "wanted");
        var pathSessions = f.CreateCounter("appliance_proxy_listener_data_path_sessions_total", "Sessions by the path that moved their bytes (with auto, or a per-session fallback, more than one).", "listener", "path");
        var current = f.CreateGauge("appliance_proxy_listener_sessions", "Sessions open now.", "listener");
        var total = f.CreateCounter("appliance_proxy_listener_sessions_total", "Sessions since start.", "listener");
        var queued = f.CreateGauge("appliance_proxy_listener_queue", "Clients waiting for a server now (held during a switchover).", "listener");
        var bytesIn = f.CreateCounter("appliance_proxy_listener_bytes_in_total", "Bytes from clients.", "listener");
        var bytesOut = f.CreateCounter("appliance_proxy_listener_bytes_out_total", "Bytes to clients.", "listener");
        var closed = f.CreateCounter("appliance_proxy_listener_closed_total", "Connections the proxy closed before or instead of a normal end, by reason.", "listener", "reason");
        var routed = f.CreateGauge("appliance_proxy_backend_routed", "1 while the server takes the listener's new clients.", "listener", "backend");
        var bCurrent = f.CreateGauge("appliance_proxy_backend_sessions", "Sessions to the server through the listener now.", "listener", "backend");
        var bTotal = f.CreateCounter("appliance_proxy_backend_sessions_total", "Sessions to the server through the listener since start.", "listener", "backend");
        var bIn = f.CreateCounter("appliance_proxy_backend_bytes_in_total", "Bytes sent to the server.", "listener", "backend");
        var bOut = f.CreateCounter("appliance_proxy_backend_bytes_out_total", "Bytes received from the server.", "listener", "backend");
        var connects = f.CreateCounter("appliance_proxy_backend_connects_total", "Successful connects to the server.", "listener", "backend");
        var connectSeconds = f.CreateCounter("appliance_proxy_backend_connect_seconds_total", "Time spent connecting to the server (successful connects); divide by connects_total for the mean.", "listener", "backend");
        var connectFailures = f.CreateCounter("appliance_proxy_backend_connect_failures_total", "Failed connects to the server.", "listener", "backend");
        var up = f.CreateGauge("appliance_proxy_backend_up", "1 while the server's health check verdict (after rise/fall) is up.", "backend");
        var role = f.CreateGauge("appliance_proxy_backend_role", "1 for the role the server's check saw (unknown for checks that cannot tell).", "backend", "role");
        var lastOk = f.CreateGauge("appliance_proxy_check_last_ok", "1 when the server's last check passed.", "backend");
        var failedAt = f.CreateGauge("appliance_proxy_check_failed_layer", "1 for the layer the server's last check failed at (none when it passed).", "backend", "layer");
        var latency = f.CreateGauge("appliance_proxy_check_latency_seconds", "How long the server's last check took.", "backend");
        var changed = f.CreateGauge("appliance_proxy_backend_last_change_timestamp_seconds", "Epoch seconds of the server's last up/down change (0 before the first).", "backend");
        var checks = f.CreateCounter("appliance_proxy_checks_total", "Health checks run against the server.", "backend");
        var checkFailures = f.CreateCounter("appliance_proxy_check_failures_total", "Health checks of the server that failed, by the layer they failed at.", "backend", "layer");
        var transitions = f.CreateCounter("appliance_proxy_backend_transitions_total", "Times the server's check verdict went up or down.", "backend");
        var routeChanges = f.CreateCounter("appliance_proxy_route_changes_total", "Changes of who takes new clients, by reason.", "reason");
        var etcd = f.CreateGauge("appliance_proxy_etcd_readable", "With etcd discovery: 1 while the cluster keys can be read and watched.");
        var primary = f.CreateGauge("appliance_proxy_sees_primary", "1 while some primary listener has a server to send writes to.");

        balancer.Registry.AddBeforeCollectCallback(() =>
        {
            if (status() is not { } s) return;
            etcd.Set(s.EtcdReadable == false ? 0 : 1);
            primary.Set(s.SeesPrimary ? 1 : 0);
            foreach (var (reason, n) in s.RouteChanges) routeChanges.WithLabels(reason).IncTo(n);
            foreach (var l in s.Listeners)
            {
                accepting.WithLabels(l.Name).Set(l.Accepting ? 1 : 0);
                dataPath.WithLabels(l.Name, l.DataPath).Set(1);
                dataPathFallback.WithLabels(l.Name, l.DataPathWanted).Set(l.DataPathFallback is null ? 0 : 1);
                foreach (var (path, n) in l.Stats.Paths) pathSessions.WithLabels(l.Name, path).IncTo(n);
                current.WithLabels(l.Name).Set(l.Stats.SessionsCurrent);
                total.WithLabels(l.Name).IncTo(l.Stats.SessionsTotal);
                queued.WithLabels(l.Name).Set(l.Stats.Queued);
                bytesIn.WithLabels(l.Name).IncTo(l.Stats.BytesIn);
                bytesOut.WithLabels(l.Name).IncTo(l.Stats.BytesOut);
                foreach (var (reason, n) in l.Stats.Closed) closed.WithLabels(l.Name, reason).IncTo(n);
                foreach (var b in l.Backends)
                {
                    routed.WithLabels(l.Name, b.Name).Set(l.Routed.Contains(b.Name) ? 1 : 0);
                    bCurrent.WithLabels(l.Name, b.Name).Set(b.SessionsCurrent);
                    bTotal.WithLabels(l.Name, b.Name).IncTo(b.SessionsTotal);
                    bIn.WithLabels(l.Name, b.Name).IncTo(b.BytesIn);
                    bOut.WithLabels(l.Name, b.Name).IncTo(b.BytesOut);
                    connects.WithLabels(l.Name, b.Name).IncTo(b.Connects);
                    connectSeconds.WithLabels(l.Name, b.Name).IncTo(b.ConnectSeconds);
                    connectFailures.WithLabels(l.Name, b.Name).IncTo(b.ConnectFailures);
                }
            }
            foreach (var c in s.Checks.Values)
            {
                up.WithLabels(c.Backend).Set(c.Up ? 1 : 0);
                foreach (var r in Roles) role.WithLabels(c.Backend, Word(r)).Set(c.Role == r ? 1 : 0);
                lastOk.WithLabels(c.Backend).Set(c.LastOk ? 1 : 0);
                foreach (var layer in Layers) failedAt.WithLabels(c.Backend, Word(layer)).Set(c.LastLayer == layer ? 1 : 0);
                latency.WithLabels(c.Backend).Set(c.LastLatency.TotalSeconds);
                changed.WithLabels(c.Backend).Set(c.LastChange?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
                checks.WithLabels(c.Backend).IncTo(c.Counters.Checks);
                transitions.WithLabels(c.Backend).IncTo(c.Counters.Transitions);
                foreach (var layer in Layers)
                    if (layer != CheckLayer.None) checkFailures.WithLabels(c.Backend, Word(layer)).IncTo(c.Counters.Failures(layer));
            }
        });
    }

    /// <summary>The label word of a role or layer: lower case, as in the JSON.</summary>
    public static string Word<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();
}
