using System.Collections.Immutable;

namespace Appliance.Node;

/// <summary>What the local PostgreSQL looks like right now: one probe, immutable.</summary>
public sealed record PostgresState
{
    /// <summary>The data directory holds a cluster (PG_VERSION exists).</summary>
    public bool DataDirInitialized { get; init; }
    /// <summary>standby.signal exists: the server is (or will come up as) a standby.</summary>
    public bool StandbyConfigured { get; init; }
    /// <summary>A postmaster for this data directory is alive (postmaster.pid names a live process).</summary>
    public bool PostmasterRunning { get; init; }
    public int? PostmasterPid { get; init; }
    /// <summary>It answers queries (a connection and <c>SELECT</c> worked).</summary>
    public bool Accepting { get; init; }
    /// <summary><c>pg_is_in_recovery()</c>; null when not accepting.</summary>
    public bool? InRecovery { get; init; }
    public long? Timeline { get; init; }
    /// <summary>Primary: <c>pg_current_wal_lsn()</c>. Replica: the larger of received and replayed.</summary>
    public long? WalPosition { get; init; }
    public long? ReceiveLsn { get; init; }
    public long? ReplayLsn { get; init; }
    public DateTimeOffset? ReplayTimestamp { get; init; }
    /// <summary>The database system identifier (from pg_control), when the data directory is initialized.</summary>
    public string? SystemId { get; init; }
    public DateTimeOffset? PostmasterStartTime { get; init; }
    public int? ServerVersion { get; init; }
    /// <summary>
    /// The settings whose changed values wait for a restart (<c>pg_settings.pending_restart</c>, recovery
    /// settings aside as Patroni does), in name order; empty when none or not accepting.
    /// </summary>
    public ImmutableArray<PendingSetting> PendingRestartSettings { get; init; } = [];
    /// <summary>A restart is needed to apply the configuration (Patroni's <c>pending_restart</c>).</summary>
    public bool PendingRestart => !PendingRestartSettings.IsDefaultOrEmpty;
    /// <summary>The host:port this standby streams from (its primary_conninfo), when it is a standby.</summary>
    public string? UpstreamHostPort { get; init; }
    /// <summary>The WAL receiver is connected and streaming.</summary>
    public bool Streaming { get; init; }
    /// <summary><c>synchronous_standby_names</c> as the server runs with it (null when not accepting).</summary>
    public string? SynchronousStandbyNames { get; init; }
    /// <summary><c>pg_stat_replication</c> on a primary.</summary>
    public ImmutableArray<ReplicationRow> Replication { get; init; } = [];

    public bool IsPrimary => Accepting && InRecovery == false;
    /// <summary>
    /// A primary, or a postmaster that may be one: running without standby.signal but not answering the
    /// probe (overloaded, out of connection slots, still recovering). The demotion rules treat it as a primary.
    /// </summary>
    public bool MayAcceptWrites => IsPrimary || (PostmasterRunning && InRecovery != true && !StandbyConfigured);
    public bool IsReplica => Accepting && InRecovery == true;
}

/// <summary>A setting changed in the configuration files that takes effect only after a restart: the value in force and the one waiting.</summary>
public sealed record PendingSetting(string Name, string Current, string? Pending);

/// <summary>One row of <c>pg_stat_replication</c>; <see cref="FlushLsn"/> is what the standby has made durable.</summary>
public sealed record ReplicationRow(
    string Usename, string ApplicationName, string? ClientAddr, string State,
    string SyncState, int SyncPriority, long? ReplayLsn, long? FlushLsn = null);
