using Appliance.Agent.Ha;
using Appliance.Fencing;
using Appliance.Ha;
using Prometheus;

namespace Appliance.Agent.Metrics;

/// <summary>
/// The agent's <c>/metrics</c>: Patroni's gauge names where the meaning is the same (so existing
/// dashboards and alerts keep working), plus our own <c>appliance_agent_*</c> series. One registry
/// per agent (no process-wide state); gauges are refreshed from <see cref="AgentState"/> at scrape time.
/// </summary>
public sealed class AgentMetrics
{
    readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    readonly Counter _decisions;
    readonly Counter _failures;
    readonly Counter _promotions;
    readonly Counter _reclones;
    readonly Counter _rewinds;
    readonly Histogram _loopDuration;

    public AgentMetrics(string scope, TimeSpan leaseTtl, AgentState state, IWatchdog watchdog, TimeProvider time)
    {
        _registry.SetStaticLabels(new Dictionary<string, string> { ["scope"] = scope });
        // process_start_time_seconds and the other standard process_* / dotnet_* series: a changed start
        // time is how monitoring/alerts.yml sees an agent that systemd restarted.
        DotNetStats.Register(_registry);
        var f = Prometheus.Metrics.WithCustomRegistry(_registry);
        Gauge G(string name, string help) => f.CreateGauge(name, help);

        var version = G("patroni_version", "Version of the agent, Patroni-style (major*10000 + minor*100 + patch).");
        var running = G("patroni_postgres_running", "1 if PostgreSQL is running.");
        var startTime = G("patroni_postmaster_start_time", "Epoch seconds of the postmaster start.");
        var master = G("patroni_master", "1 if this node is the leader (Patroni's older name).");
        var primary = G("patroni_primary", "1 if this node is the leader.");
        var xlog = G("patroni_xlog_location", "Current WAL location on the primary.");
        var standbyLeader = G("patroni_standby_leader", "1 if this node is a standby leader (always 0: no standby clusters yet).");
        var replica = G("patroni_replica", "1 if this node is a running replica.");
        var syncStandby = G("patroni_sync_standby", "1 if this node is a synchronous standby.");
        var received = G("patroni_xlog_received_location", "WAL received on a replica.");
        var replayed = G("patroni_xlog_replayed_location", "WAL replayed on a replica.");
        var replayedTs = G("patroni_xlog_replayed_timestamp", "Epoch seconds of the last replayed transaction.");
        var paused = G("patroni_xlog_paused", "1 if WAL replay is paused.");
        var serverVersion = G("patroni_postgres_server_version", "PostgreSQL server_version_num.");
        var unlocked = G("patroni_cluster_unlocked", "1 if no node holds the leader key.");
        var failsafe = G("patroni_failsafe_mode_is_active", "Failsafe mode (always 0: not supported).");
        var timeline = G("patroni_postgres_timeline", "PostgreSQL timeline.");
        var dcsLastSeen = G("patroni_dcs_last_seen", "Epoch seconds when etcd last answered.");
        var pendingRestart = G("patroni_pending_restart", "1 if a restart is needed to apply settings.");
        var isPaused = G("patroni_is_paused", "1 if the cluster is in maintenance mode.");
        var wdArmed = G("appliance_agent_watchdog_armed", "1 while the watchdog is armed (this node leads and is fenced by it).");
        var wdTimeout = G("appliance_agent_watchdog_timeout_seconds", "The timeout the watchdog device took (0 when not armed).");
        var wdFed = G("appliance_agent_watchdog_last_feed_timestamp_seconds", "Epoch seconds of the last keepalive sent to the watchdog.");
        var leaseLeft = G("appliance_agent_lease_seconds_left", "Seconds until this node's leader lease expires if not renewed (0 when not the leader).");
        // A watchdog that fires resets the node and reports nothing; a changed boot time after the node was
        // armed is what monitoring sees of it (monitoring/alerts.yml). Constant for the process's life.
        G("appliance_agent_node_boot_time_seconds", "Epoch seconds when the node booted (btime of /proc/stat; 0 if unreadable).").Set(BootTime());

        _decisions = f.CreateCounter("appliance_agent_decisions_total", "HA decisions by action.", "action");
        _failures = f.CreateCounter("appliance_agent_action_failures_total", "Actions that failed, by action.", "action");
        _promotions = f.CreateCounter("appliance_agent_promotions_total", "Promotions of this node.");
        _reclones = f.CreateCounter("appliance_agent_reclones_total", "Diverged data directories set aside and cloned again.");
        _rewinds = f.CreateCounter("appliance_agent_rewinds_total", "pg_rewind runs of a diverged former primary, by result.", "result");
        _loopDuration = f.CreateHistogram("appliance_agent_loop_duration_seconds", "Duration of one HA cycle (observe, decide, act).",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 4, 8) });

        _registry.AddBeforeCollectCallback(() =>
        {
            var s = state.Current;
            var pg = s.Postgres;
            var isLeader = s.HoldsLock && pg.IsPrimary;
            version.Set(100);
            running.Set(pg.PostmasterRunning ? 1 : 0);
            startTime.Set(pg.PostmasterStartTime?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
            master.Set(isLeader ? 1 : 0);
            primary.Set(isLeader ? 1 : 0);
            xlog.Set(pg.IsPrimary ? pg.WalPosition ?? 0 : 0);
            standbyLeader.Set(0);
            replica.Set(pg.IsReplica ? 1 : 0);
            syncStandby.Set(pg.IsReplica && s.SyncStandby ? 1 : 0);
            received.Set(pg.IsReplica ? pg.ReceiveLsn ?? 0 : 0);
            replayed.Set(pg.IsReplica ? pg.ReplayLsn ?? 0 : 0);
            replayedTs.Set(pg.IsReplica ? pg.ReplayTimestamp?.ToUnixTimeMilliseconds() / 1000.0 ?? 0 : 0);
            paused.Set(0);
            serverVersion.Set(pg.ServerVersion ?? 0);
            unlocked.Set(s.Cluster.Leader is null ? 1 : 0);
            failsafe.Set(0);
            timeline.Set(pg.Timeline ?? 0);
            dcsLastSeen.Set(s.StoreLastSeen?.ToUnixTimeSeconds() ?? 0);
            pendingRestart.Set(pg.PendingRestart ? 1 : 0);
            isPaused.Set(0);
            var wd = watchdog.State;
            wdArmed.Set(wd.Armed ? 1 : 0);
            wdTimeout.Set(wd.Armed ? wd.TimeoutSeconds ?? 0 : 0);
            wdFed.Set(wd.LastFeed?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
            leaseLeft.Set(s.HoldsLock && s.LeaseRenewedAt is { } at ? Math.Max(0, (leaseTtl - (time.GetUtcNow() - at)).TotalSeconds) : 0);
        });
    }

    public void CountDecision(HaActionKind action) => _decisions.WithLabels(action.ToString()).Inc();
    public void CountFailure(HaActionKind action) => _failures.WithLabels(action.ToString()).Inc();
    public void CountPromotion() => _promotions.Inc();
    public void CountReclone() => _reclones.Inc();
    public void CountRewind(bool ok) => _rewinds.WithLabels(ok ? "ok" : "failed").Inc();
    public void ObserveCycle(TimeSpan duration) => _loopDuration.Observe(duration.TotalSeconds);

    static double BootTime()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/stat"))
                if (line.StartsWith("btime ", StringComparison.Ordinal) &&
                    double.TryParse(line.AsSpan(6), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var at))
                    return at;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    /// <summary>Writes the Prometheus text exposition.</summary>
    public Task ExportAsync(Stream stream, CancellationToken ct) => _registry.CollectAndExportAsTextAsync(stream, ct);
}
