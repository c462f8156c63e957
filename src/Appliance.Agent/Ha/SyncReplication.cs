using Appliance.Cluster;
using Appliance.Ha;
using Appliance.Node;
using Microsoft.Extensions.Logging;

namespace Appliance.Agent.Ha;

/// <summary>
/// The leader's side of synchronous replication, run in every cycle that renewed the lease: it picks the
/// synchronous standbys (<see cref="SyncPlanner"/>), and keeps <c>synchronous_standby_names</c> and the
/// <c>sync</c> key in the order that keeps the promise — a node enters the key only after it is required
/// by PostgreSQL and seen holding everything, and leaves the key before PostgreSQL stops requiring it.
/// </summary>
public sealed class SyncReplication(string memberName, IClusterStore store, IPostgresController postgres, TimeProvider time, ILogger<SyncReplication> log)
{
    /// <summary>How long a change waits in the cycle for the new standbys to confirm, so the key rarely lags a cycle.</summary>
    static readonly TimeSpan ConfirmWait = TimeSpan.FromSeconds(2);
    static readonly TimeSpan ConfirmPoll = TimeSpan.FromMilliseconds(100);

    SyncPlanner.Mark _mark = SyncPlanner.Mark.None;
    /// <summary>
    /// Set when commits stopped being asynchronous ('' to names): whether a commit waits is decided by a
    /// flag the checkpointer updates on reload, so no standby counts as ready until a CHECKPOINT has proven
    /// the checkpointer applied the change (it handles a pending reload before starting a requested checkpoint).
    /// </summary>
    bool _awaitingCheckpoint;

    public async Task ApplyAsync(ClusterSnapshot c, PostgresState pg, CancellationToken ct)
    {
        var settings = c.SyncSettings;
        var key = c.Sync;
        var ssn = pg.SynchronousStandbyNames ?? "";
        if (!settings.Enabled)
        {
            _mark = SyncPlanner.Mark.None;
            if (!key.IsEmpty && await store.DeleteSyncAsync(key.Version, ct)) log.Info("synchronous mode is off: removed the sync key");
            if (ssn.Length > 0) await postgres.SetSynchronousStandbyNamesAsync("", ct);
            return;
        }

        if (_awaitingCheckpoint)
        {
            await postgres.CheckpointAsync(ct);
            _awaitingCheckpoint = false;
        }
        _mark = SyncPlanner.Track(_mark, ssn, pg.WalPosition, pg.Replication, key);
        var picked = SyncPlanner.Pick(settings, pg.Replication, c, memberName);
        bool ours = string.Equals(key.Leader, memberName, StringComparison.OrdinalIgnoreCase);
        IReadOnlyList<string> current = ours ? key.Members : [];
        long version = key.Version;

        if (!ours || !SyncPlanner.SameNames(picked, current))
        {
            // Shrink the key to the standbys that stay and still confirm, before PostgreSQL stops waiting for the others.
            var keep = current.Intersect(SyncPlanner.Confirmed(picked, _mark, pg.Replication), StringComparer.OrdinalIgnoreCase).ToList();
            if (!ours || !SyncPlanner.SameNames(keep, current))
            {
                if (await store.WriteSyncAsync(SyncState.ToJson(memberName, keep), version, ct) is not long v)
                {
                    log.Info("the sync key changed under this leader: trying again next cycle");
                    return;
                }
                log.Info(ours
                    ? $"synchronous standbys narrowed from [{string.Join(", ", current)}] to [{string.Join(", ", keep)}] before the change"
                    : $"claimed the sync key for this leader (it named {key.Leader ?? "no leader"})");
                version = v;
                current = keep;
            }
        }

        IReadOnlyList<ReplicationRow> rows = pg.Replication;
        var wanted = SyncPlanner.StandbyNames(picked, settings.Strict);
        if (wanted != ssn)
        {
            log.Info(picked.IsEmpty
                ? settings.Strict
                    ? "no standby can be synchronous: commits wait for any standby to confirm (synchronous_mode_strict)"
                    : "no standby can be synchronous: commits are acknowledged without one until a standby is back"
                : $"requiring {string.Join(", ", picked)} to confirm every commit");
            await postgres.SetSynchronousStandbyNamesAsync(wanted, ct);
            if (ssn.Length == 0 && wanted.Length > 0)
            {
                _awaitingCheckpoint = true;
                await postgres.CheckpointAsync(ct);
                _awaitingCheckpoint = false;
            }
            rows = await WaitForConfirmationAsync(picked, key, ct);
        }

        var confirmed = SyncPlanner.Confirmed(picked, _mark, rows);
        if (SyncPlanner.SameNames(confirmed, current)) return;
        if (await store.WriteSyncAsync(SyncState.ToJson(memberName, confirmed), version, ct) is null)
        {
            log.Info("the sync key changed under this leader: trying again next cycle");
            return;
        }
        log.Info(confirmed.IsEmpty
            ? "no synchronous standby confirms yet: no node may be promoted automatically"
            : $"synchronous standbys: {string.Join(", ", confirmed)} (they hold every acknowledged commit and may be promoted)");
    }

    /// <summary>Re-probes until the picked standbys confirm under the new setting, at most <see cref="ConfirmWait"/>.</summary>
    async Task<IReadOnlyList<ReplicationRow>> WaitForConfirmationAsync(IReadOnlyList<string> picked, SyncState key, CancellationToken ct)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var pg = await postgres.ProbeAsync(ct);
            _mark = SyncPlanner.Track(_mark, pg.SynchronousStandbyNames ?? "", pg.WalPosition, pg.Replication, key);
            if (picked.Count == 0 || SyncPlanner.Confirmed(picked, _mark, pg.Replication).Length == picked.Count
                || time.GetElapsedTime(started) >= ConfirmWait)
                return pg.Replication;
            await Task.Delay(ConfirmPoll, time, ct);
        }
    }
}
