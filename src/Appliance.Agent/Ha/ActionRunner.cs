using Appliance.Agent.Metrics;
using Appliance.Cluster;
using Appliance.Configuration;
using Appliance.Fencing;
using Appliance.Ha;
using Appliance.Node;
using Microsoft.Extensions.Logging;

namespace Appliance.Agent.Ha;

/// <summary>
/// Carries out the decider's choice. Quick store operations run inside the cycle, bounded by
/// retry_timeout; long ones (initdb, clone, start, promote, stop) run in the background so the loop
/// keeps renewing the lease meanwhile, and at most one runs at a time. Only a demotion may
/// interrupt a running action.
/// </summary>
public sealed partial class ActionRunner(
    HaSettings settings, ApplianceConfig config, IClusterStore store, IPostgresController postgres,
    IWatchdog watchdog, Callbacks callbacks, SyncReplication sync, AgentMetrics metrics, TimeProvider time, ILogger<ActionRunner> log)
{
    Task<Func<AgentMemory, AgentMemory>>? _running;
    HaActionKind _runningKind;
    CancellationTokenSource? _runningCts;
    HashSet<string> _slots = [];
    /// <summary>The last decision was KeepLeading (the only one that runs the leader's upkeep).</summary>
    bool _leading;
    TaskCompletionSource _finished = LoopSignal.Create();
    readonly System.Collections.Concurrent.ConcurrentQueue<OperatorRequest> _requests = new();
    TaskCompletionSource _requestArrived = LoopSignal.Create();

    /// <summary>The leader waits for a synchronous standby to confirm: cycle sooner than loop_wait (see <see cref="SyncReplication.Pending"/>).</summary>
    public bool SyncPending => _leading && sync.Pending;

    /// <summary>Completes when an operator's request waits for the loop (wakes it at once).</summary>
    public Task RequestArrived => _requestArrived.Task;

    /// <summary>Queues an operator's request for the loop; any thread.</summary>
    public OperatorRequest Request(HaActionKind kind)
    {
        var r = new OperatorRequest(kind);
        _requests.Enqueue(r);
        _requestArrived.TrySetResult();
        return r;
    }

    /// <summary>The loop takes queued requests on, before deciding (so the decision sees the action in progress).</summary>
    public void TakeRequests(Observation o, CancellationToken stop)
    {
        if (_requestArrived.Task.IsCompleted) _requestArrived = LoopSignal.Create();
        while (_requests.TryDequeue(out var r))
        {
            if (_running is not null)
            {
                r.Refuse($"{r.Kind} refused: {_runningKind} already in progress");
                continue;
            }
            var pg = o.Postgres;
            switch (r.Kind)
            {
                case HaActionKind.Restart when !pg.PostmasterRunning:
                    r.Refuse("PostgreSQL is not running: nothing to restart");
                    break;
                case HaActionKind.Restart:
                    var asPrimary = pg.MayAcceptWrites;
                    Start(HaActionKind.Restart, async ct =>
                    {
                        await postgres.StopAsync(immediate: false, settings.RetryTimeout / 2, ct);
                        if (asPrimary) await postgres.StartAsync(null, settings.PrimaryStartTimeout, ct);
                        else await postgres.StartAsStandbyAsync(Memory.ConfiguredUpstream, settings.PrimaryStartTimeout, ct);
                        callbacks.OnRestart(asPrimary ? "master" : "replica");
                        return m => m;
                    }, stop, r);
                    break;
                case HaActionKind.Reinitialize when o.Cluster.Leader?.Name == settings.MemberName || pg.IsPrimary:
                    r.Refuse("I am the leader, can not reinitialize");
                    break;
                case HaActionKind.Reinitialize when o.Cluster.LeaderMember?.PostgresEndpoint is null:
                    r.Refuse("Cluster has no leader, can not reinitialize");
                    break;
                case HaActionKind.Reinitialize:
                    var source = o.Cluster.LeaderMember!.PostgresEndpoint!.Value;
                    var up = new Upstream(o.Cluster.Leader!.Name, source.Host, source.Port);
                    Start(HaActionKind.Reinitialize, async ct =>
                    {
                        // The operator asked for it: the data goes (as Patroni's reinitialize), no copy kept.
                        await postgres.StopAsync(immediate: false, settings.RetryTimeout / 2, ct);
                        await postgres.WipeDataDirAsync(ct);
                        await postgres.CloneAsync(up.Host, up.Port, ct);
                        await postgres.StartAsStandbyAsync(up, settings.PrimaryStartTimeout, ct);
                        callbacks.OnStart("replica");
                        return m => m with { ConfiguredUpstream = up };
                    }, stop, r);
                    break;
                default:
                    r.Refuse($"{r.Kind} cannot be requested");
                    break;
            }
        }
    }

    /// <summary>What the loop remembers between cycles; only the loop reads and writes it.</summary>
    public AgentMemory Memory { get; set; } = AgentMemory.Empty;

    /// <summary>Completes when a background action ends (wakes the loop at once).</summary>
    public Task Finished => _finished.Task;

    /// <summary>Folds a finished background action into <see cref="Memory"/>.</summary>
    public void CollectFinished()
    {
        if (_running is not { IsCompleted: true } done) return;
        _running = null;
        _runningCts?.Dispose();
        _runningCts = null;
        _finished = LoopSignal.Create();
        Memory = done.Result(Memory with { ActionInProgress = null });
    }

    /// <summary>
    /// Carries out <paramref name="d"/>. Quick store work runs under <paramref name="cycle"/> (the cycle's
    /// store deadline); background actions run under <paramref name="stop"/> only.
    /// </summary>
    public async Task ActAsync(HaDecision d, Observation o, CancellationToken cycle, CancellationToken stop)
    {
        var ct = cycle;
        _leading = d.Action == HaActionKind.KeepLeading;
        if (!_leading) _slots = [];
        try
        {
            switch (d.Action)
            {
                case HaActionKind.None:
                    break;
                case HaActionKind.KeepLeading:
                    await KeepLeadingAsync(o, ct);
                    break;
                case HaActionKind.AcquireAsPrimary:
                    if (!MayLead()) break;
                    log.Info(await store.TryAcquireLeaderAsync(ct) ? "took the free leader key as the running primary" : "another node took the leader key first");
                    break;
                case HaActionKind.TakeOverOwnKey:
                    if (!MayLead()) break;
                    log.Info(await store.TakeOverLeaderAsync(o.Cluster.Leader!, ct) ? "took over our own leader key on the new lease" : "the leader key changed before we could take it over");
                    break;
                case HaActionKind.ReleaseLeader:
                    if (o.Postgres.MayAcceptWrites)
                        await postgres.StopAsync(immediate: true, settings.RetryTimeout / 2, ct);
                    log.Info(await store.ReleaseLeaderAsync(ct) ? "released the leader key" : "the leader key was not ours any more");
                    Disarm();
                    break;
                case HaActionKind.AcquireAndPromote:
                    if (!MayLead()) break;
                    var won = false;
                    try
                    {
                        won = await store.TryAcquireLeaderAsync(ct);
                    }
                    finally
                    {
                        // Armed to lead; a standby that did not get the key feeds nothing: disarm, or it is reset.
                        if (!won) Disarm();
                    }
                    if (!won)
                    {
                        log.Info("another node won the leader race: following it");
                        break;
                    }
                    log.Info("won the leader race: promoting");
                    Start(HaActionKind.AcquireAndPromote, c => PromoteAsync(o, c), stop);
                    break;
                case HaActionKind.StepDown:
                    Start(d.Action, c => StepDownAsync(d, o, c), stop);
                    break;
                case HaActionKind.ClearFailover:
                    if (await store.ClearFailoverAsync(o.Cluster.FailoverVersion, ct)) log.Info("removed the failover request");
                    break;
                case HaActionKind.Promote:
                    // Fenced before it takes writes, as a race winner is; a node that may not lead gives the key back.
                    if (!MayLead())
                    {
                        log.Info(await store.ReleaseLeaderAsync(ct) ? "released the leader key" : "the leader key was not ours any more");
                        break;
                    }
                    Start(d.Action, c => PromoteAsync(o, c), stop);
                    break;
                case HaActionKind.Demote:
                    await StartDemotionAsync(stop);
                    break;
                case HaActionKind.Bootstrap:
                    Start(d.Action, BootstrapAsync, stop);
                    break;
                case HaActionKind.AdoptExistingData:
                    Start(d.Action, c => AdoptAsync(o, c), stop);
                    break;
                case HaActionKind.Clone:
                case HaActionKind.Rejoin:
                    Start(d.Action, c => CloneAsync(d, o, c), stop);
                    break;
                case HaActionKind.StartAsReplica:
                    Start(d.Action, c => StartStandbyAsync(d.Upstream, c), stop);
                    break;
                case HaActionKind.StartAsPrimary:
                    // A demotion disarmed the watchdog: a primary started in place is fenced again before it takes writes.
                    if (!MayLead()) break;
                    Start(d.Action, StartPrimaryAsync, stop);
                    break;
                case HaActionKind.Follow:
                    Start(d.Action, c => FollowAsync(d.Upstream!, c), stop);
                    break;
            }
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            metrics.CountFailure(d.Action);
            log.ActionFailed(d.Action.ToString(), e.Message);
        }
    }

    /// <summary>Arms the watchdog before the leader key is taken; false (and logged) when <c>required</c> mode refuses.</summary>
    bool MayLead()
    {
        var r = watchdog.Arm();
        if (r.LogOnce is { } problem) log.Warn($"watchdog: {problem}");
        if (!r.MayLead) log.Warn($"not taking the leader key: {r.Reason}");
        return r.MayLead;
    }

    /// <summary>Stops the watchdog once this node no longer takes writes (PostgreSQL stopped, key released).</summary>
    public void Disarm()
    {
        if (watchdog.Disarm().LogOnce is { } problem) log.Warn($"watchdog: {problem}");
    }

    /// <summary>Feeds the watchdog: every cycle in which this node renewed the leader lease.</summary>
    public void Feed()
    {
        if (watchdog.Feed().LogOnce is { } problem) log.Warn($"watchdog: {problem}");
    }

    /// <summary>Cancels the running action and waits for it, at most <paramref name="grace"/>.</summary>
    public async Task CancelAsync(TimeSpan grace)
    {
        if (_running is not { IsCompleted: false } running) return;
        // Cancel, not CancelAsync: the callbacks run here, on the loop's context, not on the thread pool
        // (the simulator found the hop: a run that replays differently).
        _runningCts?.Cancel();
        await Task.WhenAny(running, Task.Delay(grace, time));
    }

    void Start(HaActionKind kind, Func<CancellationToken, Task<Func<AgentMemory, AgentMemory>>> work, CancellationToken stop, OperatorRequest? request = null)
    {
        if (_running is not null)
        {
            request?.Refuse($"{_runningKind} already in progress");
            return;
        }
        var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        _runningCts = cts;
        _runningKind = kind;
        Memory = Memory with { ActionInProgress = kind };
        // Each action completes its own signal: one abandoned by a demotion cannot wake the loop later.
        var finished = _finished = LoopSignal.Create();
        _running = RunInBackground();
        request?.Started.TrySetResult(null);

        async Task<Func<AgentMemory, AgentMemory>> RunInBackground()
        {
            // Off the loop's thread at once (the thread pool; the simulator's one thread under its context).
            await Task.Yield();
            var started = time.GetTimestamp();
            try
            {
                var update = await work(cts.Token);
                log.ActionDone(kind.ToString(), time.GetElapsedTime(started).TotalSeconds);
                request?.Finished.TrySetResult(null);
                return m => update(m) with { LastFailure = null };
            }
            catch (Exception e)
            {
                metrics.CountFailure(kind);
                log.ActionFailed(kind.ToString(), e.Message);
                var message = e.Message;
                request?.Finished.TrySetResult(message);
                return (Func<AgentMemory, AgentMemory>)(m => m with { LastFailure = $"{kind}: {message}" });
            }
            finally
            {
                finished.TrySetResult();
            }
        }
    }

    /// <summary>Demotion preempts whatever runs (a start, a clone): stopping writes comes first.</summary>
    async Task StartDemotionAsync(CancellationToken stop)
    {
        if (_running is not null)
        {
            if (_runningKind == HaActionKind.Demote) return;
            await CancelAsync(settings.RetryTimeout / 4);
            if (_running is { IsCompleted: false }) log.Warn($"{_runningKind} did not stop at once; demoting anyway");
            CollectFinished();
            _running = null;
            _runningCts = null;
        }
        Start(HaActionKind.Demote, async ct =>
        {
            // Fast shutdown first; walsenders stuck on an unreachable standby can hang it, so escalate
            // to immediate in time for the whole demotion to end within retry_timeout.
            await postgres.StopAsync(immediate: false, escalateAfter: settings.RetryTimeout / 2, ct);
            Disarm();
            callbacks.OnStop("master");
            return m => m with { ConfiguredUpstream = null, WasPrimary = true };
        }, stop);
    }

    async Task KeepLeadingAsync(Observation o, CancellationToken ct)
    {
        if (o.Postgres.WalPosition is long lsn) await store.WriteStatusAsync(lsn, ct);
        var others = o.Cluster.Members.Select(m => m.Name).Where(n => n != settings.MemberName).ToHashSet();
        if (!others.SetEquals(_slots))
        {
            await postgres.SyncReplicationSlotsAsync(others, ct);
            _slots = others;
        }
        if (o.Postgres.IsPrimary) await sync.ApplyAsync(o.Cluster, o.Postgres, ct);
    }

    async Task<Func<AgentMemory, AgentMemory>> BootstrapAsync(CancellationToken ct)
    {
        // A node that may not lead (watchdog required, device unusable) leaves the race to the others,
        // rather than win it, run initdb and throw the cluster away. The probe disarms at once: nothing
        // feeds the device during initdb.
        if (!MayLead()) return m => m;
        Disarm();
        if (!await store.TryStartInitializeAsync(ct))
        {
            log.Info("another node won the bootstrap race");
            return m => m;
        }
        log.Info("won the bootstrap race: running initdb");
        var published = false;
        try
        {
            await postgres.InitDbAsync(ct);
            await postgres.StartAsync(null, settings.PrimaryStartTimeout, ct);
            callbacks.OnStart("master");
            await postgres.CreateRolesAsync(ct);
            var pg = await postgres.ProbeAsync(ct);
            if (pg.SystemId is null) throw new InvalidOperationException("initdb left no system identifier");
            // Before the system id is published: a refusal leaves nothing half-made (Patroni cancels the initialization).
            if (!MayLead()) throw new InvalidOperationException("the watchdog refuses leadership (watchdog.mode = required)");
            if (!await store.CompleteInitializeAsync(pg.SystemId, ct))
                throw new InvalidOperationException("the bootstrap claim was lost before initdb finished");
            published = true;
            await store.InitializeConfigAsync(DynamicConfigJson.FromLocal(config), ct);
            if (!await store.TryAcquireLeaderAsync(ct))
                throw new InvalidOperationException("the leader key was taken during bootstrap");
            log.Info($"bootstrapped the cluster (system identifier {pg.SystemId}) and took the leader key");
            return m => m with { ConfiguredUpstream = null };
        }
        catch
        {
            using var cleanup = new CancellationTokenSource(settings.RetryTimeout, time);
            try { await postgres.StopAsync(immediate: true, settings.RetryTimeout / 2, cleanup.Token); } catch (Exception e) { log.Warn($"cleanup: {e.Message}"); }
            Disarm(); // armed for the leader key this bootstrap did not get
            // Before the system id is published, leave nothing half-made: the next winner starts clean.
            // After it, this data directory IS the cluster: keep it; the node rejoins the race as a standby.
            if (!published)
            {
                try { await postgres.WipeDataDirAsync(cleanup.Token); } catch (Exception e) { log.Warn($"cleanup: {e.Message}"); }
                try { await store.AbandonInitializeAsync(cleanup.Token); } catch (Exception e) { log.Warn($"cleanup: {e.Message}"); }
            }
            throw;
        }
    }

    async Task<Func<AgentMemory, AgentMemory>> AdoptAsync(Observation o, CancellationToken ct)
    {
        if (o.Postgres.SystemId is not { } sysid) throw new InvalidOperationException("the data directory has no system identifier");
        if (await store.TryStartInitializeAsync(ct) && await store.CompleteInitializeAsync(sysid, ct))
        {
            await store.InitializeConfigAsync(DynamicConfigJson.FromLocal(config), ct);
            log.Info($"claimed the cluster with the existing data directory (system identifier {sysid})");
        }
        return m => m;
    }

    async Task<Func<AgentMemory, AgentMemory>> CloneAsync(HaDecision d, Observation o, CancellationToken ct)
    {
        var source = o.Cluster.GetMember(d.CloneFrom!)?.PostgresEndpoint
            ?? throw new InvalidOperationException($"{d.CloneFrom} has no PostgreSQL address");
        if (d.Action == HaActionKind.Rejoin)
        {
            await postgres.StopAsync(immediate: false, settings.RetryTimeout / 2, ct);
            if (d.Upstream is { } up && await TryRewindAsync(up, "it stopped streaming on an older timeline", ct))
            {
                await postgres.StartAsStandbyAsync(up, settings.PrimaryStartTimeout, ct);
                return m => m with { ConfiguredUpstream = up };
            }
            await SetAsideAsync(ct);
        }
        await postgres.CloneAsync(source.Host, source.Port, ct);
        await postgres.StartAsStandbyAsync(d.Upstream, settings.PrimaryStartTimeout, ct);
        callbacks.OnStart("replica");
        return m => m with { ConfiguredUpstream = d.Upstream };
    }

    /// <summary>
    /// Starts as a standby; a former primary whose WAL went past the point where the leader's timeline
    /// forked is first rewound (so it rejoins in seconds instead of failing to stream and being re-cloned).
    /// </summary>
    async Task<Func<AgentMemory, AgentMemory>> StartStandbyAsync(Upstream? up, CancellationToken ct)
    {
        if (up is not null && config.Postgresql.UsePgRewind)
        {
            var check = await postgres.CheckDivergenceAsync(up.Host, up.Port, ct);
            if (check.Verdict == RewindVerdict.Needed && !await TryRewindAsync(up, check.Reason, ct))
            {
                await SetAsideAsync(ct);
                await postgres.CloneAsync(up.Host, up.Port, ct);
            }
        }
        await postgres.StartAsStandbyAsync(up, settings.PrimaryStartTimeout, ct);
        callbacks.OnStart("replica");
        // Whether this start is a role change is in the memory, which only the loop reads: decide there.
        return m =>
        {
            if (m.WasPrimary) callbacks.OnRoleChange("replica");
            return m with { ConfiguredUpstream = up, WasPrimary = false };
        };
    }

    /// <summary>Keeps the diverged data (it may hold transactions an operator wants back) until the next re-clone.</summary>
    async Task SetAsideAsync(CancellationToken ct)
    {
        if (await postgres.SetAsideDataDirAsync(ct) is { } aside) log.Warn($"the diverged data directory is kept at {aside}; cloning again");
        metrics.CountReclone();
    }

    /// <summary>pg_rewind from the leader (when <c>use_pg_rewind</c>); false, logged and counted, when it is off or fails.</summary>
    async Task<bool> TryRewindAsync(Upstream up, string why, CancellationToken ct)
    {
        if (!config.Postgresql.UsePgRewind) return false;
        log.Warn($"diverged from {up.Name} ({why}): running pg_rewind");
        try
        {
            await postgres.RewindAsync(up.Host, up.Port, ct);
            metrics.CountRewind(ok: true);
            log.Info($"pg_rewind from {up.Name} succeeded");
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.CountRewind(ok: false);
            log.Warn($"pg_rewind from {up.Name} failed, a fresh clone follows: {e.Message}");
            return false;
        }
    }

    async Task<Func<AgentMemory, AgentMemory>> StartPrimaryAsync(CancellationToken ct)
    {
        await postgres.StartAsync(null, settings.PrimaryStartTimeout, ct);
        callbacks.OnRestart("master");
        return m => m with { ConfiguredUpstream = null };
    }

    async Task<Func<AgentMemory, AgentMemory>> FollowAsync(Upstream up, CancellationToken ct)
    {
        await postgres.FollowAsync(up, settings.PrimaryStartTimeout, ct);
        return m => m with { ConfiguredUpstream = up };
    }

    /// <summary>
    /// The old primary's half of a switchover. A checkpoint first keeps the shutdown checkpoint short; the
    /// fast shutdown then waits until every connected standby has flushed all WAL; the last position goes to
    /// <c>status</c> so the candidate promotes only with all of it; only then is the key released.
    /// </summary>
    async Task<Func<AgentMemory, AgentMemory>> StepDownAsync(HaDecision d, Observation o, CancellationToken ct)
    {
        log.Info($"switchover to {d.Candidate}: checkpoint");
        await postgres.CheckpointAsync(ct);
        if ((await postgres.ProbeAsync(ct)).WalPosition is long lsn) await store.WriteStatusAsync(lsn, ct);
        await postgres.StopAsync(immediate: false, settings.RetryTimeout / 2, ct);
        if ((await postgres.ProbeAsync(ct)).PostmasterRunning)
            throw new InvalidOperationException("PostgreSQL did not stop: keeping the leader key");
        log.Info(await store.ReleaseLeaderAsync(ct) ? $"stopped cleanly and released the leader key for {d.Candidate}" : "the leader key was not ours any more");
        Disarm();
        callbacks.OnStop("master");
        return m => m with { ConfiguredUpstream = null, WasPrimary = true };
    }

    async Task<Func<AgentMemory, AgentMemory>> PromoteAsync(Observation before, CancellationToken ct)
    {
        var c = before.Cluster;
        sync.Reset();
        if (c.SyncSettings.Enabled)
        {
            // Claim the sync key before taking writes (compare on what was seen: a leader that lost its key
            // meanwhile cannot win it). No standby is named yet, so none may be promoted behind this node.
            if (await store.WriteSyncAsync(SyncState.ToJson(settings.MemberName, []), c.SyncVersion, ct) is null)
                throw new InvalidOperationException("the sync key changed since it was read: postponing the promotion to the next cycle");
        }
        // Before the first commit: strict mode makes writes wait for a standby; else none is required yet.
        await postgres.SetSynchronousStandbyNamesAsync(SyncPlanner.StandbyNamesAtStart(c.SyncSettings, SyncState.Empty, settings.MemberName), ct);
        var newTimeline = await postgres.PromoteAsync(settings.PrimaryStartTimeout, ct);
        if (before.Postgres.Timeline is long oldTl && newTimeline > oldTl)
        {
            var history = HistoryParser.Append(before.Cluster.HistoryJson, oldTl, before.Postgres.WalPosition ?? 0, time.GetUtcNow(), settings.MemberName);
            await store.WriteHistoryAsync(history, ct);
        }
        metrics.CountPromotion();
        log.Info($"promoted: now the primary on timeline {newTimeline}");
        callbacks.OnRoleChange("master");
        if (FailoverRequest.From(before.Cluster) is { } request && request.Member == settings.MemberName)
            await store.ClearFailoverAsync(request.Version, ct);
        return m => m with { ConfiguredUpstream = null };
    }
}
