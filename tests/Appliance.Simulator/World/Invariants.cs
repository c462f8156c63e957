using Appliance.Simulator.Models;

namespace Appliance.Simulator.World;

/// <summary>
/// The promises, checked while the run goes (the first broken one ends it):
/// one writer at a time; no acknowledged commit lost (in synchronous mode; else at most
/// maximum_lag_on_failover per failover); a former primary never takes writes on an older timeline.
/// Liveness (a leader again, every node back as a replica) is checked by <see cref="Simulation"/> at the end.
/// </summary>
public sealed class Invariants(SimWorld world)
{
    readonly HashSet<string> _wasPrimary = [];

    /// <summary>The first broken promise, with the moment it broke.</summary>
    public string? Violation { get; private set; }
    /// <summary>Acknowledged commits that an asynchronous failover left behind, within maximum_lag_on_failover.</summary>
    public int LostWithinBound { get; private set; }

    public void Fail(string what)
    {
        if (Violation is not null) return;
        Violation = $"at {world.Loop.Time.Elapsed.TotalSeconds:0.000} s: {what}";
        world.Trace("CHECK", "VIOLATION " + what);
    }

    /// <summary>Every few milliseconds: never two nodes that a client could write to at once.</summary>
    public void Tick()
    {
        SimNode? first = null;
        foreach (var n in world.Nodes)
        {
            if (!n.Postgres.CanAcknowledge || !world.Network.Connected(SimWorld.ClientHost, n.Host)) continue;
            if (first is not null)
            {
                Fail($"two nodes could acknowledge a client's commit at once: {first.Name} (timeline {first.Postgres.Timeline}) and {n.Name} (timeline {n.Postgres.Timeline})");
                return;
            }
            first = n;
        }
    }

    /// <summary>A primary acknowledges its first commit (a new node or a new timeline): it must hold every commit acknowledged before.</summary>
    public void NewWriter(SimPostgres writer, IReadOnlySet<long> acked)
    {
        var held = writer.Data!.Wal.Where(r => r.TxId != 0).Select(r => r.TxId).ToHashSet();
        var missing = acked.Where(t => !held.Contains(t)).ToList();
        world.Trace("CHECK", $"{writer.Name} takes writes on timeline {writer.Timeline}: it holds {acked.Count - missing.Count} of {acked.Count} acknowledged commits");
        if (missing.Count == 0) return;
        var sync = world.Settings.SynchronousMode && !world.AsyncAtSomePoint;
        // Asynchronous mode promises what Patroni's maximum_lag_on_failover does: no commit more than that many bytes
        // before the last position its primary published is lost. What it acknowledged after it last published (it
        // lost etcd, and takes writes until it demotes) the cluster never knew of.
        var promised = missing.Where(t => _ackedAt.TryGetValue(t, out var a)
            && _published.TryGetValue(a.Timeline, out var p) && a.Lsn + world.Settings.MaximumLagOnFailover < p).ToList();
        if (sync)
            Fail($"{missing.Count} acknowledged commits lost in synchronous mode: {writer.Name} takes writes on timeline {writer.Timeline} without them (first: {missing.Min()})");
        else if (promised.Count > 0)
            Fail($"{missing.Count} acknowledged commits lost, {promised.Count} of them more than maximum_lag_on_failover ({world.Settings.MaximumLagOnFailover} bytes) before the last position their primary published (first: {promised.Min()})");
        else
        {
            LostWithinBound += missing.Count;
            world.Forget(missing);
        }
    }

    /// <summary>Where each acknowledged commit sits in its primary's WAL (timeline, LSN after it).</summary>
    readonly Dictionary<long, (long Timeline, long Lsn)> _ackedAt = [];
    /// <summary>Per timeline, the furthest position its primary published in the status key.</summary>
    readonly Dictionary<long, long> _published = [];

    /// <summary>The leader published its position (the status key): the bound maximum_lag_on_failover is measured from.</summary>
    public void Published(long timeline, long optime)
        => _published[timeline] = Math.Max(optime, _published.GetValueOrDefault(timeline));

    /// <summary>A former primary never serves writes again on a timeline older than the newest.</summary>
    public void OnAck(SimPostgres writer, long txId)
    {
        var index = writer.Data!.Wal.FindLastIndex(r => r.TxId == txId);
        if (index >= 0) _ackedAt[txId] = (writer.Timeline, SimPostgres.Lsn(index + 1));
        if (writer.Timeline < world.MaxTimeline && _wasPrimary.Contains(writer.Name))
            Fail($"{writer.Name}, a former primary, acknowledged a commit on timeline {writer.Timeline} after timeline {world.MaxTimeline} began");
        _wasPrimary.Add(writer.Name);
    }
}
