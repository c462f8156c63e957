using System.Diagnostics;
using Appliance.Agent.Metrics;
using Appliance.Cluster;
using Appliance.Configuration;
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
public sealed class ActionRunner(
    HaSettings settings, ApplianceConfig config, IClusterStore store, IPostgresController postgres,
    AgentMetrics metrics, TimeProvider time, ILogger<ActionRunner> log)
{
    Task<Func<AgentMemory, AgentMemory>>? _running;
    HaActionKind _runningKind;
    CancellationTokenSource? _runningCts;
    HashSet<string> _slots = [];
    TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>What the loop remembers between cycles; only the loop reads and writes it.</summary>
    public AgentMemory Memory { get; set; } = AgentMemory.Empty;

    /// <summary>Completes when a background action ends (wakes the loop at once).</summary>
    public Task Finished => _finished.Task;

    /// <summary>Folds a finished background action into <see cref="Memory"/>.</summary>
    public void CollectFinished()
    {
        if (_running is not { IsCompleted: true } done) return;
        _running = null;
        _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Memory = done.Result(Memory with { ActionInProgress = null });
    }

    public async Task ActAsync(HaDecision d, Observation o, CancellationToken stop)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(settings.RetryTimeout);
        var ct = deadline.Token;
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
                    log.Info(await store.TryAcquireLeaderAsync(ct) ? "took the free leader key as the running primary" : "another node took the leader key first");
                    break;
                case HaActionKind.TakeOverOwnKey:
                    log.Info(await store.TakeOverLeaderAsync(o.Cluster.Leader!, ct) ? "took over our own leader key on the new lease" : "the leader key changed before we could take it over");
                    break;
                case HaActionKind.ReleaseLeader:
                    if (o.Postgres.PostmasterRunning && o.Postgres.InRecovery != true)
                        await postgres.StopAsync(immediate: true, TimeSpan.Zero, ct);
                    log.Info(await store.ReleaseLeaderAsync(ct) ? "released the leader key" : "the leader key was not ours any more");
                    break;
                case HaActionKind.AcquireAndPromote:
                    if (!await store.TryAcquireLeaderAsync(ct))
                    {
                        log.Info("another node won the leader race: following it");
                        break;
                    }
                    log.Info("won the leader race: promoting");
                    Start(HaActionKind.AcquireAndPromote, c => PromoteAsync(o, c), stop);
                    break;
                case HaActionKind.Promote:
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
                case HaActionKind.Reclone:
                    Start(d.Action, c => CloneAsync(d, o, c), stop);
                    break;
                case HaActionKind.StartAsReplica:
                    Start(d.Action, c => StartReplicaAsync(d.Upstream, c), stop);
                    break;
                case HaActionKind.StartAsPrimary:
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

    /// <summary>Cancels the running action and waits for it, at most <paramref name="grace"/>.</summary>
    public async Task CancelAsync(TimeSpan grace)
    {
        if (_running is not { } running) return;
        await (_runningCts?.CancelAsync() ?? Task.CompletedTask);
        await Task.WhenAny(running, Task.Delay(grace, time));
    }

    void Start(HaActionKind kind, Func<CancellationToken, Task<Func<AgentMemory, AgentMemory>>> work, CancellationToken stop)
    {
        if (_running is not null) return;
        var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        _runningCts = cts;
        _runningKind = kind;
        Memory = Memory with { ActionInProgress = kind };
        var finished = _finished;
        _running = Task.Run(async () =>
        {
            var sw = Stopwatch.StartNew();
            try
            {
                var update = await work(cts.Token);
                log.ActionDone(kind.ToString(), sw.Elapsed.TotalSeconds);
                return m => update(m) with { LastFailure = null };
            }
            catch (Exception e)
            {
                metrics.CountFailure(kind);
                log.ActionFailed(kind.ToString(), e.Message);
                var message = e.Message;
                return (Func<AgentMemory, AgentMemory>)(m => m with { LastFailure = $"{kind}: {message}" });
            }
            finally
            {
                cts.Dispose();
                finished.TrySetResult();
            }
        }, CancellationToken.None);
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
        }
        Start(HaActionKind.Demote, async ct =>
        {
            // Fast shutdown first; walsenders stuck on an unreachable standby can hang it, so escalate
            // to immediate in time for the whole demotion to end within retry_timeout.
            await postgres.StopAsync(immediate: false, escalateAfter: settings.RetryTimeout / 2, ct);
            return m => m with { ConfiguredUpstream = null };
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
    }

    async Task<Func<AgentMemory, AgentMemory>> BootstrapAsync(CancellationToken ct)
    {
        if (!await store.TryStartInitializeAsync(ct))
        {
            log.Info("another node won the bootstrap race");
            return m => m;
        }
        log.Info("won the bootstrap race: running initdb");
        try
        {
            await postgres.InitDbAsync(ct);
            await postgres.StartAsync(null, settings.PrimaryStartTimeout, ct);
            await postgres.CreateRolesAsync(ct);
            var pg = await postgres.ProbeAsync(ct);
            if (pg.SystemId is null) throw new InvalidOperationException("initdb left no system identifier");
            await store.CompleteInitializeAsync(pg.SystemId, ct);
            await store.InitializeConfigAsync(DynamicConfigJson.FromLocal(config), ct);
            if (!await store.TryAcquireLeaderAsync(ct))
                throw new InvalidOperationException("the leader key was taken during bootstrap");
            log.Info($"bootstrapped the cluster (system identifier {pg.SystemId}) and took the leader key");
            return m => m with { ConfiguredUpstream = null };
        }
        catch
        {
            // Leave nothing half-made behind: the next node to win the race starts clean.
            using var cleanup = new CancellationTokenSource(settings.RetryTimeout);
            try { await postgres.StopAsync(immediate: true, TimeSpan.Zero, cleanup.Token); } catch (Exception e) { log.Warn($"cleanup: {e.Message}"); }
            try { await postgres.WipeDataDirAsync(cleanup.Token); } catch (Exception e) { log.Warn($"cleanup: {e.Message}"); }
            try { await store.AbandonInitializeAsync(cleanup.Token); } catch (Exception e) { log.Warn($"cleanup: {e.Message}"); }
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
        if (d.Action == HaActionKind.Reclone)
        {
            await postgres.StopAsync(immediate: false, settings.RetryTimeout / 2, ct);
            // Keep the diverged data (it may hold transactions an operator wants back) until the next re-clone.
            if (await postgres.SetAsideDataDirAsync(ct) is { } aside) log.Warn($"the diverged data directory is kept at {aside}");
            metrics.CountReclone();
        }
        await postgres.CloneAsync(source.Host, source.Port, ct);
        await postgres.StartAsync(d.Upstream, settings.PrimaryStartTimeout, ct);
        return m => m with { ConfiguredUpstream = d.Upstream };
    }

    async Task<Func<AgentMemory, AgentMemory>> StartReplicaAsync(Upstream? up, CancellationToken ct)
    {
        await postgres.StartAsync(up, settings.PrimaryStartTimeout, ct);
        return m => m with { ConfiguredUpstream = up };
    }

    async Task<Func<AgentMemory, AgentMemory>> StartPrimaryAsync(CancellationToken ct)
    {
        await postgres.StartAsync(null, settings.PrimaryStartTimeout, ct);
        return m => m with { ConfiguredUpstream = null };
    }

    async Task<Func<AgentMemory, AgentMemory>> FollowAsync(Upstream up, CancellationToken ct)
    {
        await postgres.FollowAsync(up, settings.PrimaryStartTimeout, ct);
        return m => m with { ConfiguredUpstream = up };
    }

    async Task<Func<AgentMemory, AgentMemory>> PromoteAsync(Observation before, CancellationToken ct)
    {
        var newTimeline = await postgres.PromoteAsync(settings.PrimaryStartTimeout, ct);
        if (before.Postgres.Timeline is long oldTl && newTimeline > oldTl)
        {
            var history = HistoryParser.Append(before.Cluster.HistoryJson, oldTl, before.Postgres.WalPosition ?? 0, time.GetUtcNow(), settings.MemberName);
            await store.WriteHistoryAsync(history, ct);
        }
        metrics.CountPromotion();
        log.Info($"promoted: now the primary on timeline {newTimeline}");
        return m => m with { ConfiguredUpstream = null };
    }
}
