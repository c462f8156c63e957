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

    /// <summary>Makes the running server re-read its configuration files (<c>pg_reload_conf()</c>).</summary>
    Task ReloadAsync(CancellationToken ct);

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

    /// <summary>
    /// Whether this data directory (stopped, or running as a standby) has diverged from the history of
    /// the source at <paramref name="sourceHost"/>:<paramref name="sourcePort"/>: compares the local end of
    /// WAL and timeline with the source's timeline history (as the replication user). A stopped cluster that
    /// was not shut down cleanly first goes through crash recovery in single-user mode, so its real end of
    /// WAL is known. Never throws for an unreachable source: that is <see cref="RewindVerdict.Unknown"/>.
    /// </summary>
    Task<RewindCheck> CheckDivergenceAsync(string sourceHost, int sourcePort, CancellationToken ct);

    /// <summary>
    /// Rewinds the stopped data directory onto the source's timeline with pg_rewind (connecting as the
    /// superuser), after crash recovery in single-user mode when it was not shut down cleanly. The caller
    /// then starts it as a standby of the source. Throws a PostgresControlException naming the cause when
    /// the rewind is impossible; the data directory is then left as pg_rewind left it (re-clone next).
    /// </summary>
    Task RewindAsync(string sourceHost, int sourcePort, CancellationToken ct);

    /// <summary>
    /// Sets <c>synchronous_standby_names</c> (its own managed file, kept across restarts) and reloads a
    /// running server. Empty: commits wait for no standby; <c>*</c>: for any one.
    /// </summary>
    Task SetSynchronousStandbyNamesAsync(string value, CancellationToken ct);

    /// <summary>
    /// Takes the cluster's dynamic parameters (<c>postgresql.parameters</c> of the <c>config</c> key): every
    /// later start, follow and promotion writes them into the managed configuration, below the local
    /// <c>[postgresql.parameters]</c>. With <paramref name="reload"/>, a running server gets them now: the
    /// managed file is rewritten for its current role and reloaded, only when its content changes; true
    /// then. Settings that need a restart show in the next probe's <see cref="PostgresState.PendingRestart"/>.
    /// Not to be called with <paramref name="reload"/> while a start, follow or promotion runs.
    /// </summary>
    Task<bool> ApplyDynamicParametersAsync(IReadOnlyDictionary<string, string> parameters, bool reload, CancellationToken ct);

    /// <summary>On the primary: creates a physical slot for each name missing and drops slots of names absent.</summary>
    Task SyncReplicationSlotsAsync(IReadOnlyCollection<string> memberNames, CancellationToken ct);
}

/// <summary>The node a standby streams from.</summary>
public sealed record Upstream(string Name, string Host, int Port);
