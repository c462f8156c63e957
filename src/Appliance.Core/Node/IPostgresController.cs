namespace Appliance.Node;

/// <summary>
/// Control of the local PostgreSQL 15 (initdb, start, stop, clone, promote) and its probe. Every
/// long call is cancellable and bounded; none blocks on a client. When the agent runs as root the
/// processes run as <c>postgresql.run_as</c>.
/// </summary>
public interface IPostgresController
{
    /// <summary>Probes the data directory, the postmaster and (when it answers) the SQL state. Never throws for a down server.</summary>
    Task<PostgresState> ProbeAsync(CancellationToken ct);

    /// <summary>Runs initdb (with data checksums) into an empty data directory and writes the managed files.</summary>
    Task InitDbAsync(CancellationToken ct);

    /// <summary>After the first start of a new cluster: creates the replication user and sets the superuser password.</summary>
    Task CreateRolesAsync(CancellationToken ct);

    /// <summary>Clones the data directory with pg_basebackup from <paramref name="sourceHost"/>:<paramref name="sourcePort"/>. The data directory must be empty.</summary>
    Task CloneAsync(string sourceHost, int sourcePort, CancellationToken ct);

    /// <summary>Removes everything in the data directory (a failed bootstrap). PostgreSQL must be stopped.</summary>
    Task WipeDataDirAsync(CancellationToken ct);

    /// <summary>
    /// Before a re-clone: moves the data directory to <c>&lt;data_dir&gt;.diverged</c> (replacing an older
    /// one), so the clone starts empty and the diverged data stays for the operator, even when the
    /// clone then fails. PostgreSQL must be stopped. Returns where the data went, or null when there was none.
    /// </summary>
    Task<string?> SetAsideDataDirAsync(CancellationToken ct);

    /// <summary>
    /// Writes the managed configuration for the given role and starts the postmaster; returns once it
    /// accepts connections or throws on timeout. <paramref name="upstream"/> is null for a primary,
    /// else the leader's name, host and port to stream from (with <c>primary_slot_name</c> = this member).
    /// </summary>
    Task StartAsync(Upstream? upstream, TimeSpan timeout, CancellationToken ct);

    /// <summary>
    /// Starts as a standby whatever <paramref name="upstream"/> is: with none yet it replays its own WAL
    /// and waits (standby.signal, no primary_conninfo), read-only. The only safe start without the leader key.
    /// </summary>
    Task StartAsStandbyAsync(Upstream? upstream, TimeSpan timeout, CancellationToken ct);

    /// <summary>Issues a CHECKPOINT on the running server (before a planned stop: the stop itself is then short).</summary>
    Task CheckpointAsync(CancellationToken ct);

    /// <summary>
    /// Stops the postmaster: fast shutdown, escalated to immediate when it has not stopped after
    /// <paramref name="escalateAfter"/> (walsenders stuck on an unreachable standby, for example).
    /// Returns once no postmaster runs. Immediate right away when <paramref name="immediate"/>.
    /// </summary>
    Task StopAsync(bool immediate, TimeSpan escalateAfter, CancellationToken ct);

    /// <summary>Rewrites the standby settings to follow <paramref name="upstream"/> and reloads or restarts as PostgreSQL requires.</summary>
    Task FollowAsync(Upstream upstream, TimeSpan timeout, CancellationToken ct);

    /// <summary>Promotes the standby (<c>pg_promote(wait =&gt; true)</c>) and returns the new timeline.</summary>
    Task<long> PromoteAsync(TimeSpan timeout, CancellationToken ct);

    /// <summary>On the primary: creates a physical slot for each name missing and drops slots of names absent.</summary>
    Task SyncReplicationSlotsAsync(IReadOnlyCollection<string> memberNames, CancellationToken ct);
}

/// <summary>The node a standby streams from.</summary>
public sealed record Upstream(string Name, string Host, int Port);
