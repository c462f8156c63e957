using System.Diagnostics;
using Appliance.Agent.Metrics;
using Appliance.Cluster;
using Appliance.Ha;
using Appliance.Node;
using Microsoft.Extensions.Logging;

namespace Appliance.Agent.Ha;

/// <summary>
/// The HA loop: observe (etcd, the lease, PostgreSQL, and the peers when the key is free), decide
/// (<see cref="Decider"/>, pure), act (<see cref="ActionRunner"/>), publish. It cycles every
/// <c>loop_wait</c>, or at once when a cluster key changes or a background action ends.
/// </summary>
public sealed class HaLoop(
    HaSettings settings, IClusterStore store, IPostgresController postgres, PeerClient peers,
    ActionRunner runner, MemberPublisher publisher, AgentState state, AgentMetrics metrics,
    TimeProvider time, ILogger<HaLoop> log)
{
    ClusterSnapshot _lastSnapshot = new();
    DateTimeOffset? _storeLastSeen;
    DateTimeOffset? _leaseRenewedAt;
    string? _lastReason;

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
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
            await SleepAsync(stop);
        }
    }

    async Task SleepAsync(CancellationToken stop)
    {
        try
        {
            var change = store.WaitForChangeAsync(settings.LoopWait, stop);
            await Task.WhenAny(change, runner.Finished.WaitAsync(stop));
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
        catch (Exception e)
        {
            // The watch is a shortcut; without it the loop still cycles every loop_wait.
            log.StoreError(e.Message);
            try { await Task.Delay(settings.LoopWait, time, stop); } catch (OperationCanceledException) { }
        }
    }

    async Task CycleAsync(CancellationToken stop)
    {
        var started = Stopwatch.GetTimestamp();
        runner.CollectFinished();

        // One deadline for the store work of the cycle: a leader that cannot read and renew within
        // retry_timeout treats the lease as lost (loop_wait + 2 x retry_timeout <= ttl leaves time to demote).
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(settings.RetryTimeout);
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
                try
                {
                    lease = await store.RenewLeaderAsync(deadline.Token) ? LeaseStatus.Renewed : LeaseStatus.Lost;
                }
                catch (Exception e) when (!stop.IsCancellationRequested)
                {
                    log.StoreError($"cannot renew the leader lease: {e.Message}");
                    lease = LeaseStatus.Failed;
                }
            }
            if (lease == LeaseStatus.Renewed) _leaseRenewedAt = time.GetUtcNow();
        }

        var pg = await postgres.ProbeAsync(stop);

        PeerStatus[] peerStatuses = [];
        if (reachable && snapshot.Leader is null && snapshot.IsInitialized && pg.Accepting && settings.CanBePromoted)
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
        runner.Memory = Decider.Remember(runner.Memory, observation, settings, now);
        observation = observation with { Memory = runner.Memory };
        var decision = Decider.Decide(observation, settings, now);

        if (decision.Reason != _lastReason) log.Decided(decision.ToString());
        else log.DecidedQuiet(decision.ToString());
        _lastReason = decision.Reason;
        metrics.CountDecision(decision.Action);

        await runner.ActAsync(decision, observation, stop);

        var memberState = MemberPublisher.StateOf(pg, runner.Memory.ActionInProgress);
        if (reachable)
        {
            using var touch = CancellationTokenSource.CreateLinkedTokenSource(stop);
            touch.CancelAfter(settings.RetryTimeout);
            try
            {
                await store.TouchMemberAsync(publisher.Build(pg, memberState), touch.Token);
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
        });
        metrics.ObserveCycle(Stopwatch.GetElapsedTime(started));
    }

    /// <summary>
    /// A clean stop: end the running action, stop PostgreSQL (so nothing accepts writes), then give the
    /// leader key up at once so a replica takes over without waiting for the lease to expire.
    /// </summary>
    public async Task ShutdownAsync()
    {
        await runner.CancelAsync(settings.RetryTimeout);
        using var cts = new CancellationTokenSource(settings.RetryTimeout * 2);
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
            if (await store.ReleaseLeaderAsync(cts.Token)) log.Info("released the leader key");
            await store.DeleteMemberAsync(cts.Token);
        }
        catch (Exception e)
        {
            log.StoreError($"cannot clean up the keys on shutdown: {e.Message}");
        }
    }
}
