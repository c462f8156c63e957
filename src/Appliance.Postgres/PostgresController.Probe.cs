using System.Collections.Immutable;
using System.Globalization;
using Appliance.Configuration;
using Appliance.Node;
using Npgsql;

namespace Appliance.Postgres;

/// <summary>Probing: is it there, does it run, what does it say (never throws for a down server).</summary>
public sealed partial class PostgresController
{
    public async Task<PostgresState> ProbeAsync(CancellationToken ct)
    {
        bool initialized = File.Exists(Path.Combine(DataDir, "PG_VERSION"));
        int? pid = initialized ? Postmaster.LivePid(DataDir) : null;
        var state = new PostgresState
        {
            DataDirInitialized = initialized,
            StandbyConfigured = initialized && File.Exists(Path.Combine(DataDir, "standby.signal")),
            PostmasterRunning = pid is not null,
            PostmasterPid = pid,
            SystemId = initialized ? ReadSystemId() : null,
        };
        if (pid is null) return state;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(ProbeTimeout);
            return await QueryStateAsync(state, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            Log.ProbeFailed(_log, e);
            return state;
        }
    }

    // The last column: settings waiting for a restart. Recovery settings are left out (as Patroni does):
    // the agent rewrites them on role changes, they are not the operator's to restart for.
    const string StateSql = """
        SELECT pg_is_in_recovery(),
               CASE WHEN pg_is_in_recovery() THEN NULL ELSE (pg_current_wal_lsn() - '0/0')::bigint END,
               CASE WHEN pg_is_in_recovery() THEN NULL
                    ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
               (pg_last_wal_receive_lsn() - '0/0')::bigint,
               (pg_last_wal_replay_lsn() - '0/0')::bigint,
               pg_last_xact_replay_timestamp(),
               pg_postmaster_start_time(),
               current_setting('server_version_num')::int,
               w.status, w.received_tli, w.sender_host, w.sender_port,
               (SELECT timeline_id FROM pg_control_checkpoint()),
               current_setting('synchronous_standby_names'),
               (SELECT string_agg(s.name || E'\t' || current_setting(s.name) || E'\t' || coalesce(f.setting, ''), E'\n' ORDER BY s.name)
                  FROM pg_settings AS s
                  LEFT JOIN LATERAL (SELECT setting FROM pg_file_settings WHERE name = s.name ORDER BY seqno DESC LIMIT 1) AS f ON true
                  WHERE s.pending_restart AND s.name NOT LIKE 'recovery\_target%' AND name NOT IN ('primary_conninfo', 'primary_slot_name',
                  'restore_command', 'archive_cleanup_command', 'recovery_end_command', 'recovery_min_apply_delay',
                  'promote_trigger_file'))
        FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS w ON true
        """;

    /// <summary>One "name TAB value in force TAB value in the files" line of the pending-restart column.</summary>
    static PendingSetting ParsePending(string line)
    {
        var f = line.Split('\t');
        return new PendingSetting(f[0], f.Length > 1 ? f[1] : "", f.Length > 2 && f[2].Length > 0 ? f[2] : null);
    }

    static bool ReceiverMissing(PostgresState s) => !s.Streaming && s.UpstreamHostPort is null;

    /// <summary>
    /// The timeline a standby replays, from IDENTIFY_SYSTEM on a replication connection over the socket (as
    /// Patroni does): with no WAL receiver running, pg_stat_wal_receiver is empty and the checkpoint's
    /// timeline can be several promotions old, which would keep a healthy standby out of a leader race.
    /// Null when the connection is not allowed (a custom pg_hba) or fails.
    /// </summary>
    async Task<long?> ReplayTimelineAsync(CancellationToken ct)
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = RunDir,
            Port = _pg.Port,
            Username = _pg.Superuser.Username,
            ApplicationName = "appliance-agent",
            Timeout = (int)ProbeTimeout.TotalSeconds,
            Pooling = false,
        };
        try
        {
            await using var rc = new Npgsql.Replication.PhysicalReplicationConnection(b.ConnectionString);
            await rc.Open(ct).ConfigureAwait(false);
            var id = await rc.IdentifySystem(ct).ConfigureAwait(false);
            return id.Timeline;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException && !ct.IsCancellationRequested)
        {
            Log.ProbeFailed(_log, e);
            return null;
        }
    }

    const string ReplicationSql = """
        SELECT coalesce(usename::text, ''), coalesce(application_name, ''), client_addr::text, coalesce(state, ''),
               coalesce(sync_state, ''), coalesce(sync_priority, 0), (replay_lsn - '0/0')::bigint,
               (flush_lsn - '0/0')::bigint
        FROM pg_stat_replication ORDER BY application_name
        """;

    async Task<PostgresState> QueryStateAsync(PostgresState state, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        PostgresState s;
        await using (var cmd = new NpgsqlCommand(StateSql, conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            if (!await r.ReadAsync(ct).ConfigureAwait(false)) return state;
            bool inRecovery = r.GetBoolean(0);
            long? current = r.IsDBNull(1) ? null : r.GetInt64(1);
            long? primaryTli = r.IsDBNull(2) ? null : r.GetInt32(2);
            long? receive = r.IsDBNull(3) ? null : r.GetInt64(3);
            long? replay = r.IsDBNull(4) ? null : r.GetInt64(4);
            DateTimeOffset? replayTs = r.IsDBNull(5) ? null : new DateTimeOffset(r.GetDateTime(5), TimeSpan.Zero);
            DateTimeOffset? started = r.IsDBNull(6) ? null : new DateTimeOffset(r.GetDateTime(6), TimeSpan.Zero);
            int version = r.GetInt32(7);
            string? walStatus = r.IsDBNull(8) ? null : r.GetString(8);
            long? receivedTli = r.IsDBNull(9) ? null : r.GetInt32(9);
            string? senderHost = r.IsDBNull(10) ? null : r.GetString(10);
            int? senderPort = r.IsDBNull(11) ? null : r.GetInt32(11);
            long? checkpointTli = r.IsDBNull(12) ? null : r.GetInt32(12);
            string ssn = r.GetString(13);
            string? pendingRestart = r.IsDBNull(14) ? null : r.GetString(14);

            long? position = inRecovery
                ? (receive, replay) switch
                {
                    (long a, long b) => Math.Max(a, b),
                    (long a, null) => a,
                    (null, long b) => b,
                    _ => null,
                }
                : current;
            s = state with
            {
                Accepting = true,
                InRecovery = inRecovery,
                // A primary's pg_control checkpoint timeline lags a promotion until the next checkpoint:
                // the current WAL file's name carries the live timeline. A standby: what it receives
                // (below, what it replays when no WAL receiver runs).
                Timeline = inRecovery ? receivedTli ?? checkpointTli : primaryTli,
                WalPosition = position,
                ReceiveLsn = receive,
                ReplayLsn = replay,
                ReplayTimestamp = replayTs,
                PostmasterStartTime = started,
                ServerVersion = version,
                UpstreamHostPort = senderHost is null ? null
                    : senderPort is int sp ? $"{senderHost}:{sp.ToString(CultureInfo.InvariantCulture)}" : senderHost,
                Streaming = walStatus == "streaming",
                SynchronousStandbyNames = ssn,
                PendingRestartSettings = pendingRestart is null ? [] : [.. pendingRestart.Split('\n').Select(ParsePending)],
            };
        }
        if (s.InRecovery == true)
        {
            if (ReceiverMissing(s)) s = s with { Timeline = await ReplayTimelineAsync(ct).ConfigureAwait(false) ?? s.Timeline };
            return s;
        }

        var rows = ImmutableArray.CreateBuilder<ReplicationRow>();
        await using (var cmd = new NpgsqlCommand(ReplicationSql, conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                rows.Add(new ReplicationRow(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2),
                    r.GetString(3), r.GetString(4), r.GetInt32(5), r.IsDBNull(6) ? null : r.GetInt64(6), r.IsDBNull(7) ? null : r.GetInt64(7)));
            }
        }
        return s with { Replication = rows.ToImmutable() };
    }

    /// <summary>
    /// The database system identifier: the first field of <c>global/pg_control</c> (a native-endian
    /// uint64 in every version since 9.x). Read directly instead of running pg_controldata on every probe.
    /// </summary>
    string? ReadSystemId()
    {
        try
        {
            using var f = File.OpenRead(Path.Combine(DataDir, "global", "pg_control"));
            Span<byte> buf = stackalloc byte[8];
            f.ReadExactly(buf);
            return BitConverter.ToUInt64(buf).ToString(CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
