namespace Appliance.Cluster;

/// <summary>
/// The cluster store (Patroni's DCS) for one node of one cluster. Every call is bounded by the
/// caller's token; the agent gives leader operations <c>retry_timeout</c>. The node owns one lease
/// with TTL = <c>ttl</c>: its member key and, while it leads, the leader key hang on it, so both
/// vanish together when the node stops renewing.
/// </summary>
public interface IClusterStore : IAsyncDisposable
{
    /// <summary>The node this store acts for (the leader key's value when it leads).</summary>
    string MemberName { get; }

    /// <summary>Reads every key of the cluster in one range read: a consistent snapshot.</summary>
    Task<ClusterSnapshot> LoadAsync(CancellationToken ct);

    /// <summary>The bootstrap race: creates <c>initialize</c> = "" on this node's lease only if it is absent (atomic). True if this call won.</summary>
    Task<bool> TryStartInitializeAsync(CancellationToken ct);

    /// <summary>After initdb: sets <c>initialize</c> to the system identifier, only if it still holds "".</summary>
    Task<bool> CompleteInitializeAsync(string systemId, CancellationToken ct);

    /// <summary>A failed bootstrap gives up the race: deletes <c>initialize</c> only if it still holds "".</summary>
    Task<bool> AbandonInitializeAsync(CancellationToken ct);

    /// <summary>Creates the leader key = this member on its lease, only if no leader key exists (atomic create-if-absent). True if taken.</summary>
    Task<bool> TryAcquireLeaderAsync(CancellationToken ct);

    /// <summary>
    /// Keeps the lease alive and checks, in one compare, that the leader key still names this member
    /// on this lease. False when it does not (the node must demote); throws when etcd cannot answer
    /// within the token (the node must demote too).
    /// </summary>
    Task<bool> RenewLeaderAsync(CancellationToken ct);

    /// <summary>The id of this node's lease, 0 before the first write (to tell our key from one left by an earlier run).</summary>
    long LeaseId { get; }

    /// <summary>
    /// Moves a leader key that names this member but hangs on an earlier run's lease onto the current
    /// lease, only if it is still exactly what was seen (compare on <see cref="LeaderLock.ModRevision"/>).
    /// </summary>
    Task<bool> TakeOverLeaderAsync(LeaderLock seen, CancellationToken ct);

    /// <summary>Deletes the leader key only if it names this member (compare-and-delete). True if deleted.</summary>
    Task<bool> ReleaseLeaderAsync(CancellationToken ct);

    /// <summary>Writes this member's key on the lease, refreshing the lease (a new one if it expired).</summary>
    Task TouchMemberAsync(MemberData data, CancellationToken ct);

    /// <summary>Deletes this member's key (clean shutdown).</summary>
    Task DeleteMemberAsync(CancellationToken ct);

    /// <summary>Creates <c>config</c> with this JSON if absent. True if written.</summary>
    Task<bool> InitializeConfigAsync(string json, CancellationToken ct);

    /// <summary>Writes <c>config</c> only if it is still at <paramref name="expectedVersion"/> (0: only if absent). True if written.</summary>
    Task<bool> WriteConfigAsync(string json, long expectedVersion, CancellationToken ct);

    /// <summary>Writes <c>failover</c> (a switchover or failover request) only if it is still at <paramref name="expectedVersion"/> (0: only if absent).</summary>
    Task<bool> WriteFailoverAsync(string json, long expectedVersion, CancellationToken ct);

    /// <summary>Deletes <c>failover</c> only if it is still at <paramref name="expectedVersion"/> (a request is done or void).</summary>
    Task<bool> ClearFailoverAsync(long expectedVersion, CancellationToken ct);

    /// <summary>
    /// Writes <c>sync</c> only if it is still at <paramref name="expectedVersion"/> (0: only if absent) and the
    /// leader key still names this member: a deposed leader can never name synchronous standbys. Returns the
    /// new version, or null when a compare failed.
    /// </summary>
    Task<long?> WriteSyncAsync(string json, long expectedVersion, CancellationToken ct);

    /// <summary>Deletes <c>sync</c> only if it is still at <paramref name="expectedVersion"/> (synchronous mode turned off).</summary>
    Task<bool> DeleteSyncAsync(long expectedVersion, CancellationToken ct);

    /// <summary>Writes <c>history</c> (the leader writes it after a promotion).</summary>
    Task WriteHistoryAsync(string json, CancellationToken ct);

    /// <summary>Writes <c>status</c> = <c>{"optime": lsn}</c> (the leader, every cycle).</summary>
    Task WriteStatusAsync(long optime, CancellationToken ct);

    /// <summary>
    /// Waits until a key that should wake the HA loop changes (a watch on the prefix) or the timeout
    /// passes: <c>leader</c>, <c>config</c>, <c>failover</c>, <c>initialize</c>, <c>sync</c>, and
    /// <c>status</c> while another node leads; member keys do not, or every node's own refresh would
    /// wake its loop. True when woken by a change. Changes seen since the last call count.
    /// </summary>
    Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct);
}
