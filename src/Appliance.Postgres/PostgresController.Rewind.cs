using System.Globalization;
using Appliance.Node;
using Npgsql;

namespace Appliance.Postgres;

/// <summary>
/// Rejoining a diverged node without a full clone: telling whether its history left the source's
/// (<see cref="Divergence"/> decides), crash recovery in single-user mode, pg_rewind. Semantics follow
/// Patroni's <c>postgresql/rewind.py</c>.
/// </summary>
public sealed partial class PostgresController
{
    /// <summary>Files the agent writes before every start; pg_rewind overwrites them with the source's copies.</summary>
    static readonly string[] OwnConfigFiles = ["postgresql.conf", ManagedFiles.ConfFileName, "pg_hba.conf", "pg_ident.conf"];

    public async Task<RewindCheck> CheckDivergenceAsync(string sourceHost, int sourcePort, CancellationToken ct)
    {
        var check = await CheckAsync(sourceHost, sourcePort, ct).ConfigureAwait(false);
        Log.RewindCheck(_log, sourceHost, sourcePort, check.Verdict.ToString(), check.Reason);
        return check;
    }

    async Task<RewindCheck> CheckAsync(string sourceHost, int sourcePort, CancellationToken ct)
    {
        if (!File.Exists(Path.Combine(DataDir, "PG_VERSION"))) return RewindCheck.Unknown($"{DataDir} holds no cluster");

        WalEnd local;
        if (Postmaster.LivePid(DataDir) is not null)
        {
            // Running: only a standby's position is stable enough to compare (Patroni does the same).
            var s = await ProbeAsync(ct).ConfigureAwait(false);
            if (!s.IsReplica) return RewindCheck.Unknown(s.IsPrimary ? "running as a primary: stop it first" : "running but not answering");
            if (s.Timeline is not long tli || s.ReplayLsn is not long replay) return RewindCheck.Unknown("the standby reports no timeline or replay position");
            local = new WalEnd(tli, replay, InRecovery: true);
        }
        else
        {
            var cd = await ControlDataAsync(ct).ConfigureAwait(false);
            if (Divergence.LocalEnd(cd) is null)
            {
                // A primary that crashed: its WAL may go well past the last checkpoint, and only replaying it
                // tells where it ends (comparing the checkpoint would call a diverged node fine).
                await CrashRecoveryAsync(cd, ct).ConfigureAwait(false);
                cd = await ControlDataAsync(ct).ConfigureAwait(false);
            }
            if (Divergence.LocalEnd(cd) is not WalEnd end)
                return RewindCheck.Unknown($"cannot tell where local WAL ends (cluster state '{cd.GetValueOrDefault(Divergence.StateKey)}')");
            local = end;
        }

        SourceTimeline source;
        try
        {
            source = await SourceTimelineAsync(sourceHost, sourcePort, local.Timeline, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (IsConnectionFailure(e) && !ct.IsCancellationRequested)
        {
            return RewindCheck.Unknown($"cannot read the timeline history of {sourceHost}:{sourcePort}: {e.Message}");
        }
        if (ReadSystemId() is string ours && ours != source.SystemId)
            return RewindCheck.Needed($"the source is another cluster (system identifier {source.SystemId}, ours {ours}): only a clone helps");

        // Only a former primary that is behind the fork needs to know where its last record ends.
        long? checkpointEnd = null;
        if (!local.InRecovery && source.Timeline > local.Timeline
            && source.History.FirstOrDefault(h => h.ParentTimeline == local.Timeline) is { } fork && local.Lsn < fork.Switchpoint)
            checkpointEnd = await RecordEndAsync(local, ct).ConfigureAwait(false);
        return Divergence.Decide(local, source.Timeline, source.History, checkpointEnd);
    }

    public async Task RewindAsync(string sourceHost, int sourcePort, CancellationToken ct)
    {
        RefuseWhenRunning("rewind");
        if (!File.Exists(Path.Combine(DataDir, "PG_VERSION")))
            throw new PostgresControlException($"cannot rewind: {DataDir} holds no cluster (no PG_VERSION)");

        // The source first, before anything here changes: it must be a primary of the same cluster whose
        // pg_control already shows its new timeline.
        await PrepareSourceAsync(sourceHost, sourcePort, ct).ConfigureAwait(false);

        var cd = await ControlDataAsync(ct).ConfigureAwait(false);
        if (cd.GetValueOrDefault("wal_log_hints setting") != "on" && cd.GetValueOrDefault("Data page checksum version") is null or "0")
            throw new PostgresControlException("cannot rewind: the cluster has neither data checksums nor wal_log_hints=on (pg_rewind needs one)");
        if (!Divergence.ShutDownCleanly(cd)) await CrashRecoveryAsync(cd, ct).ConfigureAwait(false);

        var saved = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in OwnConfigFiles)
        {
            string path = Path.Combine(DataDir, name);
            if (File.Exists(path)) saved[name] = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
        }

        string conninfo = string.Join(' ',
            "host=" + ManagedFiles.QuoteConninfoValue(sourceHost),
            "port=" + sourcePort.ToString(CultureInfo.InvariantCulture),
            "user=" + ManagedFiles.QuoteConninfoValue(_pg.Superuser.Username),
            "dbname=postgres", "connect_timeout=10", "application_name=" + ManagedFiles.QuoteConninfoValue(_member));
        // As for pg_basebackup: the password sits in a 0600 file named by PGPASSFILE, never on the command
        // line (ps shows it to everyone) nor in the environment (/proc/<pid>/environ).
        using var pgpass = string.IsNullOrEmpty(_pg.Superuser.Password) ? null
            : SecretFile.Create(RunDir, _user, $"*:*:*:{ManagedFiles.EscapePgpass(_pg.Superuser.Username)}:{ManagedFiles.EscapePgpass(_pg.Superuser.Password)}\n");
        var env = new Dictionary<string, string>
        {
            ["PGPASSFILE"] = pgpass?.Path ?? "/dev/null",
            // pg_rewind reads every changed block from the source: no statement timeout may cut that short.
            ["PGOPTIONS"] = "-c statement_timeout=0",
        };
        Log.Rewinding(_log, sourceHost, sourcePort);
        var result = await _cmd.RunAsync("pg_rewind",
            [$"--target-pgdata={DataDir}", $"--source-server={conninfo}", "--progress"],
            env, Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
        Log.Command(_log, "pg_rewind", result.ExitCode);
        if (!result.Succeeded)
        {
            // The data directory stays as pg_rewind left it (possibly half-rewound): the agent sets it aside
            // and clones; nothing here tries to repair it.
            string reason = Divergence.FailureReason(result.Output, result.ExitCode);
            Log.RewindFailed(_log, sourceHost, sourcePort, reason);
            throw new PostgresControlException(
                $"pg_rewind from {sourceHost}:{sourcePort} failed: {reason}\n{Tail(result.Output, 20)}");
        }

        // pg_rewind copied the source's configuration files; ours go back (StartAsync rewrites the managed
        // ones anyway, but a node must never sit with the source's port or role in its files). A
        // postmaster.opts would describe the source's postmaster. postgresql.auto.conf (ALTER SYSTEM) is
        // cluster-wide, so the source's copy is the right one.
        foreach (var (name, content) in saved) WriteOwned(Path.Combine(DataDir, name), content);
        File.Delete(Path.Combine(DataDir, "postmaster.opts"));
        Log.Rewound(_log, sourceHost, sourcePort);
    }

    /// <summary>
    /// The source as pg_rewind will see it, as the superuser over TCP: a primary (pg_rewind refuses a
    /// standby), of our cluster, whose pg_control names its current timeline. Right after a promotion
    /// pg_control still shows the old timeline until the next checkpoint, and pg_rewind would then
    /// conclude "no rewind required" and leave the diverged data as it is: so a checkpoint is asked for.
    /// </summary>
    async Task PrepareSourceAsync(string host, int port, CancellationToken ct)
    {
        await using var ds = SourceDataSource(host, port);
        try
        {
            await using var conn = await ds.OpenConnectionAsync(ct).ConfigureAwait(false);
            bool inRecovery;
            string systemId;
            long checkpointTli;
            long? currentTli;
            await using (var cmd = new NpgsqlCommand("""
                SELECT pg_is_in_recovery(), (SELECT system_identifier FROM pg_control_system())::text,
                       (SELECT timeline_id FROM pg_control_checkpoint()),
                       CASE WHEN pg_is_in_recovery() THEN NULL
                            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END
                """, conn))
            await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                await r.ReadAsync(ct).ConfigureAwait(false);
                inRecovery = r.GetBoolean(0);
                systemId = r.GetString(1);
                checkpointTli = r.GetInt32(2);
                currentTli = r.IsDBNull(3) ? null : r.GetInt32(3);
            }
            if (inRecovery)
                throw new PostgresControlException($"cannot rewind from {host}:{port}: it is a standby (pg_rewind needs the primary)");
            if (ReadSystemId() is string ours && ours != systemId)
                throw new PostgresControlException($"cannot rewind from {host}:{port}: it is another cluster (system identifier {systemId}, ours {ours})");
            if (currentTli is long tli && tli != checkpointTli)
            {
                Log.SourceCheckpoint(_log, host, port, tli);
                await ExecAsync(conn, "CHECKPOINT", ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsConnectionFailure(e) && !ct.IsCancellationRequested)
        {
            throw new PostgresControlException(
                $"cannot rewind from {host}:{port}: cannot connect to the source as superuser {_pg.Superuser.Username}: {e.Message}", e);
        }
    }

    sealed record SourceTimeline(string SystemId, long Timeline, IReadOnlyList<HistoryEntry> History);

    /// <summary>
    /// IDENTIFY_SYSTEM over a replication connection as the replication user (what the standby itself
    /// would stream with), then, when the source is on a later timeline than ours, its timeline history
    /// file. TIMELINE_HISTORY would bring that too, but Npgsql 10 expects its content as bytea and
    /// PostgreSQL 15 sends text (InvalidCastException), so the file is read with pg_read_file as the
    /// superuser: the same bytes, and the superuser connection is what pg_rewind needs anyway.
    /// </summary>
    async Task<SourceTimeline> SourceTimelineAsync(string host, int port, long localTimeline, CancellationToken ct)
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = host, Port = port, Username = _pg.Replication.Username,
            ApplicationName = "appliance-agent", Timeout = (int)ProbeTimeout.TotalSeconds, Pooling = false,
            SslMode = SslMode.Prefer,
        };
        if (!string.IsNullOrEmpty(_pg.Replication.Password)) b.Password = _pg.Replication.Password;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        Npgsql.Replication.ReplicationSystemIdentification id;
        await using (var rc = new Npgsql.Replication.PhysicalReplicationConnection(b.ConnectionString))
        {
            await rc.Open(cts.Token).ConfigureAwait(false);
            id = await rc.IdentifySystem(cts.Token).ConfigureAwait(false);
        }
        List<HistoryEntry> history = [];
        if (id.Timeline > localTimeline && id.Timeline > 1)
        {
            await using var ds = SourceDataSource(host, port);
            await using var conn = await ds.OpenConnectionAsync(cts.Token).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("SELECT pg_read_file('pg_wal/' || $1 || '.history')", conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = id.Timeline.ToString("X8", CultureInfo.InvariantCulture) });
            history = Divergence.ParseHistory((string?)await cmd.ExecuteScalarAsync(cts.Token).ConfigureAwait(false) ?? "");
        }
        return new SourceTimeline(id.SystemId, id.Timeline, history);
    }

    /// <summary>The source as the superuser over TCP (the default pg_hba allows it with scram from anywhere).</summary>
    NpgsqlDataSource SourceDataSource(string host, int port)
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = host, Port = port, Username = _pg.Superuser.Username, Database = "postgres",
            ApplicationName = "appliance-agent", Timeout = 10, CommandTimeout = 0, Pooling = false,
            SslMode = SslMode.Prefer,
        };
        if (!string.IsNullOrEmpty(_pg.Superuser.Password)) b.Password = _pg.Superuser.Password;
        var builder = new NpgsqlSlimDataSourceBuilder(b.ConnectionString);
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        // Prefer: TLS when the source offers it; the slim builder leaves TLS out unless asked.
        builder.EnableTransportSecurity();
        return builder.Build();
    }

    static bool IsConnectionFailure(Exception e)
        => e is NpgsqlException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException or IOException;

    async Task<Dictionary<string, string>> ControlDataAsync(CancellationToken ct)
    {
        var r = await _cmd.RunAsync("pg_controldata", ["-D", DataDir], null, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        r.ThrowOnFailure();
        return Divergence.ParseControlData(r.Output);
    }

    /// <summary>Where the (shutdown checkpoint) record at the local end of WAL ends, read back with pg_waldump; null when unreadable.</summary>
    async Task<long?> RecordEndAsync(WalEnd local, CancellationToken ct)
    {
        var r = await _cmd.RunAsync("pg_waldump",
            ["-p", Path.Combine(DataDir, "pg_wal"), "-t", local.Timeline.ToString(CultureInfo.InvariantCulture),
             "-s", Divergence.FormatLsn(local.Lsn), "-n", "2"],
            null, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        return Divergence.ParseRecordEnd(r.Output, local.Lsn);
    }

    /// <summary>
    /// Replays the WAL of a cluster that was not shut down cleanly by starting it in single-user mode with
    /// stdin closed: PostgreSQL runs crash recovery, finds no commands and shuts down with a checkpoint,
    /// leaving pg_control "shut down" (what pg_rewind demands). The recovery signal files go first
    /// (single-user mode refuses standby mode; the next start as a standby writes standby.signal again).
    /// archive_mode=on with a failing archive_command keeps every not-yet-archived WAL segment through
    /// the end-of-recovery checkpoint: pg_rewind still needs the WAL back to the fork.
    /// </summary>
    async Task CrashRecoveryAsync(IReadOnlyDictionary<string, string> controlData, CancellationToken ct)
    {
        RefuseWhenRunning("run crash recovery");
        Log.CrashRecovery(_log, controlData.GetValueOrDefault(Divergence.StateKey) ?? "unknown");
        RemoveStaleLocks();
        File.Delete(Path.Combine(DataDir, "standby.signal"));
        File.Delete(Path.Combine(DataDir, "recovery.signal"));
        var r = await _cmd.RunAsync("postgres",
            ["--single", "-D", DataDir, "-c", "archive_mode=on", "-c", "archive_command=false", "template1"],
            null, Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
        Log.Command(_log, "postgres --single", r.ExitCode);
        if (!r.Succeeded)
            throw new PostgresControlException($"crash recovery in single-user mode exited with {r.ExitCode}:\n{Tail(r.Output, 20)}");
    }

    static string Tail(string output, int lines)
    {
        var all = output.TrimEnd().Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}
