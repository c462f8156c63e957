using Appliance.Agent.Metrics;
using Appliance.Cluster;
using Appliance.Ha;
using Appliance.Linux.Systemd;
using Appliance.Node;
using Microsoft.Extensions.Logging;

namespace Appliance.Agent.Ha;

/// <summary>
/// The HA loop: observe (etcd, the lease, PostgreSQL, and the peers when the key is free), decide
/// (<see cref="Decider"/>, pure), act (<see cref="ActionRunner"/>), publish. It cycles every
/// <c>loop_wait</c>, or at once when a cluster key changes or a background action ends.
/// </summary>
public sealed class HaLoop(
    HaSettings settings, IClusterStore store, IPostgresController postgres, IPeerClient peers,
    ActionRunner runner, MemberPublisher publisher, AgentState state, AgentMetrics metrics,
    SystemdNotify notify, RestartScheduler restarts, TimeProvider time, ILogger<HaLoop> log) : IDisposable
{
    ClusterSnapshot _lastSnapshot = new();
    DateTimeOffset? _storeLastSeen;
    DateTimeOffset? _leaseRenewedAt;
    string? _lastReason;
    readonly LeaseDeadline _deadline = new(postgres, settings.Ttl, time, log);

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var started = time.GetTimestamp();
            try
            {
                await CycleAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                log.ActionFailed("HA cycle", e.Message);
            }
            // Cycles start loop_wait apart (not loop_wait after the previous one ended): the lease budget
            // loop_wait + 2 x retry_timeout <= ttl counts from the start of the cycle that last renewed.
            var wait = (runner.SyncPending ? TimeSpan.FromSeconds(Math.Min(1, settings.LoopWait.TotalSeconds)) : settings.LoopWait) - time.GetElapsedTime(started);
            // A scheduled restart runs at its moment, not up to loop_wait later (an overdue one that waits
            // for something else is woken by that, not polled).
            if (restarts.DueIn(time.GetUtcNow()) is { } due && due > TimeSpan.Zero && due < wait) wait = due + TimeSpan.FromMilliseconds(10);
            await SleepAsync(wait, stop);
        }
    }

    async Task SleepAsync(TimeSpan wait, CancellationToken stop)
    {
        if (wait <= TimeSpan.Zero) return;
        try
        {
            var change = store.WaitForChangeAsync(wait, stop);
            await Task.WhenAny(change, runner.Finished.WaitAsync(stop), runner.RequestArrived.WaitAsync(stop), restarts.Changed.WaitAsync(stop));
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
        catch (Exception e)
        {
            // The watch is a shortcut; without it the loop still cycles every loop_wait.
            log.StoreError(e.Message);
            try { await Task.Delay(wait, time, stop); } catch (OperationCanceledException) { }
        }
    }

    async Task CycleAsync(CancellationToken stop)
    {
        var started = time.GetTimestamp();
        runner.CollectFinished();

        // One deadline for all the store work of the cycle (read, renewal, quick actions, member key):
        // a leader that cannot do it within retry_timeout treats the lease as lost, and
        // loop_wait + 2 x retry_timeout <= ttl leaves the second retry_timeout to demote.
        using var timeout = new CancellationTokenSource(settings.RetryTimeout, time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        var probe = postgres.ProbeAsync(stop);
        var snapshot = _lastSnapshot;
        var reachable = false;
        try
        {
            snapshot = await store.LoadAsync(deadline.Token);
            reachable = true;
            _lastSnapshot = snapshot;
            _storeLastSeen = time.GetUtcNow();
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            log.StoreError($"cannot read the cluster: {e.Message}");
        }

        var lease = LeaseStatus.NotLeader;
        if (reachable && snapshot.Leader is { } leader && leader.Name == settings.MemberName)
        {
            if (leader.LeaseId != store.LeaseId)
                lease = LeaseStatus.StaleOwnKey;
            else
            {
                var sentAt = time.GetUtcNow();
                var sent = time.GetTimestamp();
                try
                {
                    lease = await store.RenewLeaderAsync(deadline.Token) ? LeaseStatus.Renewed : LeaseStatus.Lost;
                    // The lease runs from when the keepalive was sent, not from when the answer came.
                    if (lease == LeaseStatus.Renewed)
                    {
                        _leaseRenewedAt = sentAt;
                        _deadline.LeaseFrom(sent);
                        runner.Feed();
                    }
                }
                catch (Exception e) when (!stop.IsCancellationRequested)
                {
                    log.StoreError($"cannot renew the leader lease: {e.Message}");
                    lease = LeaseStatus.Failed;
                }
            }
        }

        var pg = await probe;

        PeerStatus[] peerStatuses = [];
        var wantPeers = snapshot.Leader is null || FailoverRequest.From(snapshot) is not null;
        if (reachable && wantPeers && snapshot.IsInitialized && pg.Accepting)
        {
            var others = snapshot.Members.Where(m => m.Name != settings.MemberName && !string.IsNullOrEmpty(m.Data.ApiUrl));
            peerStatuses = await peers.FetchAsync(others, TimeSpan.FromSeconds(Math.Clamp(settings.RetryTimeout.TotalSeconds / 2, 1, 3)), stop);
        }

        var now = time.GetUtcNow();
        var observation = new Observation
        {
            Cluster = snapshot, StoreReachable = reachable, Postgres = pg, Lease = lease,
            Peers = [.. peerStatuses], Memory = runner.Memory,
        };
        restarts.Tick(observation, runner, settings.LoopWait, now);
        runner.TakeRequests(observation, stop);
        runner.Memory = Decider.Remember(runner.Memory, observation, settings, now);
        observation = observation with { Memory = runner.Memory };
        var decision = Decider.Decide(observation, settings, now);

        if (decision.Reason != _lastReason) log.Decided(decision.ToString());
        else log.DecidedQuiet(decision.ToString());
        _lastReason = decision.Reason;
        metrics.CountDecision(decision.Action);

        if (reachable && snapshot.Leader?.Name != settings.MemberName && !pg.MayAcceptWrites) _deadline.Clear();
        // A key taken now is on a lease that runs at least ttl from now.
        if (decision.Action is HaActionKind.AcquireAsPrimary or HaActionKind.AcquireAndPromote or HaActionKind.TakeOverOwnKey)
            _deadline.LeaseFrom(time.GetTimestamp());

        await runner.ApplyDynamicParametersAsync(observation, stop);
        await runner.ActAsync(decision, observation, deadline.Token, stop);

        var memberState = MemberPublisher.StateOf(pg, runner.Memory.ActionInProgress);
        if (reachable)
        {
            try
            {
                await store.TouchMemberAsync(publisher.Build(pg, memberState, snapshot.IsPaused, restarts.Published), deadline.Token);
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                log.StoreError($"cannot publish the member key: {e.Message}");
            }
        }

        state.Publish(new AgentStatus
        {
            Cluster = snapshot, Postgres = pg, LastDecision = decision, Lease = lease,
            StoreLastSeen = _storeLastSeen, LastCycleAt = now, LeaseRenewedAt = _leaseRenewedAt,
            MemberState = memberState,
            SyncStandby = snapshot.SyncSettings.Enabled && snapshot.Sync.IsSyncStandby(settings.MemberName),
        });
        metrics.ObserveCycle(time.GetElapsedTime(started));
        // systemd restarts an agent whose loop stops turning (WatchdogSec=); STATUS= shows in systemctl status.
        notify.Watchdog();
        notify.Status(decision.ToString());
    }

    /// <summary>
    /// A synchronous standby that stops would stall every commit until the leader names another. So it
    /// leaves first: its member key goes (which wakes the leader), and PostgreSQL stops only once the sync
    /// key no longer names it — or after retry_timeout, when the leader does not answer.
    /// </summary>
    async Task LeaveSynchronousDutyAsync()
    {
        var c = _lastSnapshot;
        if (!c.SyncSettings.Enabled || !c.Sync.IsSyncStandby(settings.MemberName)) return;
        using var cts = new CancellationTokenSource(settings.RetryTimeout, time);
        try
        {
            log.Info("shutting down a synchronous standby: leaving the cluster first so the leader names another");
            await store.DeleteMemberAsync(cts.Token);
            while ((await store.LoadAsync(cts.Token)).Sync.IsSyncStandby(settings.MemberName))
                await Task.Delay(TimeSpan.FromMilliseconds(100), time, cts.Token);
            log.Info("released from synchronous duty");
        }
        catch (Exception e)
        {
            log.StoreError($"still a synchronous standby, stopping anyway: {e.Message}");
        }
    }

    /// <summary>
    /// A clean stop: end the running action (a synchronous standby then hands its duty over), stop
    /// PostgreSQL (so nothing accepts writes), then give the leader key up at once so a replica takes
    /// over without waiting for the lease to expire.
    /// </summary>
    public async Task ShutdownAsync()
    {
        await runner.CancelAsync(settings.RetryTimeout);
        await LeaveSynchronousDutyAsync();
        using var cts = new CancellationTokenSource(settings.RetryTimeout * 2, time);
        try
        {
            log.Info("shutting down: stopping PostgreSQL");
            await postgres.StopAsync(immediate: false, escalateAfter: settings.RetryTimeout / 2, cts.Token);
        }
        catch (Exception e)
        {
            log.ActionFailed("stopping PostgreSQL", e.Message);
        }
        try
        {
            // Only a stopped PostgreSQL may hand the key over: else a replica could promote beside it.
            if ((await postgres.ProbeAsync(cts.Token)).PostmasterRunning)
                log.Warn("PostgreSQL is still running: keeping the leader key until the lease expires");
            else
            {
                runner.Disarm();
                if (await store.ReleaseLeaderAsync(cts.Token)) log.Info("released the leader key");
            }
            await store.DeleteMemberAsync(cts.Token);
        }
        catch (Exception e)
        {
            log.StoreError($"cannot clean up the keys on shutdown: {e.Message}");
        }
    }

    public void Dispose() => _deadline.Dispose();
}
