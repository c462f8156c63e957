using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Appliance.Configuration;
using Appliance.Node;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Appliance.Postgres;

/// <summary>
/// <see cref="IPostgresController"/> over PostgreSQL 15's own programs (initdb, pg_ctl, pg_basebackup),
/// signals to the postmaster, and SQL through Npgsql's slim (AOT-safe) data source.
/// </summary>
/// <remarks>
/// Files beside the data directory <c>D</c> (created by the agent, owned by the run-as user):
/// <list type="bullet">
/// <item><c>D.run/</c>: <c>unix_socket_directories</c> and short-lived 0600 password files. Per data
/// directory (not /tmp) so that several nodes on one host or in network namespaces sharing /tmp never
/// collide on <c>.s.PGSQL.5432.lock</c>, and outside <c>D</c> so pg_basebackup never copies the socket
/// lock file into a clone.</item>
/// <item><c>D.log</c>: pg_ctl's <c>-l</c> log (the postmaster's stderr). Outside <c>D</c> so it survives
/// a wipe and re-clone and is not shipped to replicas.</item>
/// </list>
/// The agent connects as the superuser over TCP to the first <c>listen</c> address (127.0.0.1 for a
/// wildcard) when a superuser password is configured, else over the socket with peer authentication
/// (the default pg_hba/pg_ident let root and the run-as user in as the superuser).
/// </remarks>
public sealed class PostgresController : IPostgresController, IDisposable
{
    static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    /// <summary>How long a starting postmaster may take to write postmaster.pid before it counts as exited.</summary>
    static readonly TimeSpan StartupGrace = TimeSpan.FromSeconds(5);

    readonly PostgresqlSection _pg;
    readonly string _member;
    readonly TimeProvider _time;
    readonly ILogger _log;
    readonly OsUser _user;
    readonly PgCommand _cmd;
    readonly NpgsqlDataSource _db;

    public PostgresController(PostgresqlSection pg, string memberName, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(pg);
        ArgumentException.ThrowIfNullOrEmpty(pg.DataDir, "postgresql.data_dir");
        ArgumentException.ThrowIfNullOrEmpty(memberName);
        _pg = pg;
        _member = memberName;
        _time = time;
        _log = logger;
        DataDir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(pg.DataDir));
        RunDir = DataDir + ".run";
        LogFile = DataDir + ".log";
        _user = OsUser.Resolve(pg.RunAs);
        _cmd = new PgCommand(pg.BinDir, _user);
        var builder = new NpgsqlSlimDataSourceBuilder(ConnectionString(TimeSpan.FromSeconds(5)));
        // Only built-in types are read: skip the pg_type round trip on every (unpooled) open.
        builder.ConfigureTypeLoading(t => t.EnableTypeLoading(false));
        _db = builder.Build();
    }

    /// <summary>The data directory, absolute.</summary>
    public string DataDir { get; }
    /// <summary>The unix socket directory (and home of transient 0600 password files): <c>&lt;data_dir&gt;.run</c>.</summary>
    public string RunDir { get; }
    /// <summary>pg_ctl's log file: <c>&lt;data_dir&gt;.log</c>.</summary>
    public string LogFile { get; }

    /// <summary>Where the agent connects: a host for TCP, or the socket directory.</summary>
    string AgentHost
    {
        get
        {
            if (string.IsNullOrEmpty(_pg.Superuser.Password)) return RunDir;
            string first = _pg.Listen.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            return first switch
            {
                "" or "*" or "0.0.0.0" => "127.0.0.1",
                "::" => "::1",
                _ => first,
            };
        }
    }

    string ConnectionString(TimeSpan commandTimeout)
    {
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = AgentHost,
            Port = _pg.Port,
            Username = _pg.Superuser.Username,
            Database = "postgres",
            ApplicationName = "appliance-agent",
            Timeout = (int)ProbeTimeout.TotalSeconds,
            CommandTimeout = (int)Math.Ceiling(commandTimeout.TotalSeconds),
            // One connection per call: a restarted postmaster never hands the agent a dead pooled socket.
            Pooling = false,
            SslMode = SslMode.Disable,
        };
        if (!string.IsNullOrEmpty(_pg.Superuser.Password)) b.Password = _pg.Superuser.Password;
        return b.ConnectionString;
    }

    public void Dispose() => _db.Dispose();

    // ---------------------------------------------------------------- probe

    public async Task<PostgresState> ProbeAsync(CancellationToken ct)
    {
        bool initialized = File.Exists(Path.Combine(DataDir, "PG_VERSION"));
        int? pid = initialized ? Postmaster.LivePid(DataDir) : null;
        var state = new PostgresState
        {
            DataDirInitialized = initialized,
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
               (SELECT timeline_id FROM pg_control_checkpoint())
        FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS w ON true
        """;

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
               coalesce(sync_state, ''), coalesce(sync_priority, 0), (replay_lsn - '0/0')::bigint
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
                    r.GetString(3), r.GetString(4), r.GetInt32(5), r.IsDBNull(6) ? null : r.GetInt64(6)));
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

    // ---------------------------------------------------------------- initdb, roles

    public async Task InitDbAsync(CancellationToken ct)
    {
        RefuseWhenRunning("initdb");
        PrepareEmptyDataDir();
        Log.InitDb(_log, DataDir);
        var args = new List<string>
        {
            "-D", DataDir, "--data-checksums", "-U", _pg.Superuser.Username,
            "--encoding=UTF8", "--locale=C.UTF-8", "--auth-local=peer", "--auth-host=scram-sha-256",
        };
        using var pwfile = string.IsNullOrEmpty(_pg.Superuser.Password) ? null
            : SecretFile.Create(RunDir, _user, _pg.Superuser.Password + "\n");
        if (pwfile is not null) args.Add("--pwfile=" + pwfile.Path);
        var result = await _cmd.RunAsync("initdb", args, null, TimeSpan.FromMinutes(5), ct).ConfigureAwait(false);
        Log.Command(_log, "initdb", result.ExitCode);
        result.ThrowOnFailure();
        WriteManagedFiles(upstream: null);
    }

    public async Task CreateRolesAsync(CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        // Keep the statements that carry passwords out of the server log (as Patroni does).
        await ExecAsync(conn, "SET log_statement TO none; SET log_min_duration_statement TO -1; SET log_min_error_statement TO panic", ct).ConfigureAwait(false);
        try
        {
            if (!string.IsNullOrEmpty(_pg.Superuser.Password))
            {
                await ExecAsync(conn, $"ALTER ROLE {Sql.Ident(_pg.Superuser.Username)} WITH PASSWORD {Sql.Literal(_pg.Superuser.Password)}", ct).ConfigureAwait(false);
                Log.Role(_log, _pg.Superuser.Username, "password set");
            }
            string repl = _pg.Replication.Username;
            bool exists;
            await using (var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = $1", conn))
            {
                cmd.Parameters.Add(new NpgsqlParameter { Value = repl });
                exists = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0;
            }
            string options = "REPLICATION LOGIN" + (string.IsNullOrEmpty(_pg.Replication.Password) ? "" : " PASSWORD " + Sql.Literal(_pg.Replication.Password));
            await ExecAsync(conn, $"{(exists ? "ALTER" : "CREATE")} ROLE {Sql.Ident(repl)} WITH {options}", ct).ConfigureAwait(false);
            Log.Role(_log, repl, exists ? "updated" : "created");
        }
        finally
        {
            await ExecAsync(conn, "RESET log_statement; RESET log_min_duration_statement; RESET log_min_error_statement", CancellationToken.None).ConfigureAwait(false);
        }
    }

    // ---------------------------------------------------------------- clone, wipe

    public async Task CloneAsync(string sourceHost, int sourcePort, CancellationToken ct)
    {
        RefuseWhenRunning("clone");
        PrepareEmptyDataDir();
        Log.Cloning(_log, sourceHost, sourcePort);
        var args = new List<string>
        {
            "-D", DataDir, "-h", sourceHost, "-p", sourcePort.ToString(CultureInfo.InvariantCulture),
            "-U", _pg.Replication.Username, "-X", "stream", "-c", "fast", "--no-password",
        };
        // The password travels in a 0600 pgpass file named by PGPASSFILE: not on the command line, not in
        // the environment (which /proc/<pid>/environ shows to the same user).
        using var pgpass = string.IsNullOrEmpty(_pg.Replication.Password) ? null
            : SecretFile.Create(RunDir, _user, $"*:*:*:{ManagedFiles.EscapePgpass(_pg.Replication.Username)}:{ManagedFiles.EscapePgpass(_pg.Replication.Password)}\n");
        var env = new Dictionary<string, string> { ["PGPASSFILE"] = pgpass?.Path ?? "/dev/null", ["PGCONNECT_TIMEOUT"] = "10" };
        try
        {
            var result = await _cmd.RunAsync("pg_basebackup", args, env, Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
            Log.Command(_log, "pg_basebackup", result.ExitCode);
            result.ThrowOnFailure();
            File.SetUnixFileMode(DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception e)
        {
            EmptyDataDir();
            Log.CloneFailed(_log, e);
            throw;
        }
    }

    public Task WipeDataDirAsync(CancellationToken ct)
    {
        RefuseWhenRunning("wipe the data directory");
        if (Directory.Exists(DataDir))
        {
            EmptyDataDir();
            Log.Wiped(_log, DataDir);
        }
        return Task.CompletedTask;
    }

    public Task<string?> SetAsideDataDirAsync(CancellationToken ct)
    {
        RefuseWhenRunning("set the data directory aside");
        if (!Directory.Exists(DataDir) || !Directory.EnumerateFileSystemEntries(DataDir).Any())
            return Task.FromResult<string?>(null);
        var aside = DataDir + ".diverged";
        if (Directory.Exists(aside)) Directory.Delete(aside, recursive: true);
        Directory.Move(DataDir, aside);
        Log.SetAside(_log, DataDir, aside);
        return Task.FromResult<string?>(aside);
    }

    // ---------------------------------------------------------------- start, stop

    public async Task StartAsync(Upstream? upstream, TimeSpan timeout, CancellationToken ct)
    {
        if (!File.Exists(Path.Combine(DataDir, "PG_VERSION")))
            throw new PostgresControlException($"cannot start: {DataDir} holds no cluster (no PG_VERSION)");
        RefuseWhenRunning("start");
        RemoveStaleLocks();
        WriteManagedFiles(upstream);
        EnsureLogFile();
        Log.Starting(_log, upstream is null ? "primary" : $"standby of {upstream.Name} ({upstream.Host}:{upstream.Port})", LogFile);

        var started = _time.GetTimestamp();
        // -W: pg_ctl returns at once; readiness is ours to judge (below). pg_ctl starts the postmaster in
        // its own session (setsid) with stdio on the log file, so it outlives the agent.
        var result = await _cmd.RunAsync("pg_ctl", ["start", "-D", DataDir, "-l", LogFile, "-W", "-s"], null,
            TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
        Log.Command(_log, "pg_ctl start", result.ExitCode);
        if (!result.Succeeded)
            throw new PostgresControlException($"pg_ctl start exited with {result.ExitCode}: {result.Output.Trim()}\n{LogTail()}");

        int? seenPid = null;
        while (true)
        {
            int? pid = Postmaster.ReadPid(DataDir);
            if (pid is not null) seenPid = pid;
            if (seenPid is int sp && !Postmaster.IsAlive(sp))
                throw new PostgresControlException($"postmaster {sp} exited during start-up:\n{LogTail()}");
            // A postmaster writes postmaster.pid within milliseconds; one that never did has already exited.
            if (seenPid is null && _time.GetElapsedTime(started) > StartupGrace)
                throw new PostgresControlException($"the postmaster exited during start-up:\n{LogTail()}");
            if (await AcceptsAsync(ct).ConfigureAwait(false))
            {
                Log.Started(_log, seenPid ?? Postmaster.ReadPid(DataDir) ?? 0);
                return;
            }
            if (_time.GetElapsedTime(started) >= timeout)
                throw new TimeoutException($"PostgreSQL did not accept connections within {timeout.TotalSeconds:0}s:\n{LogTail()}");
            await Task.Delay(PollInterval, _time, ct).ConfigureAwait(false);
        }
    }

    async Task<bool> AcceptsAsync(CancellationToken ct)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(ProbeTimeout);
            await using var conn = await _db.OpenConnectionAsync(cts.Token).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            await cmd.ExecuteScalarAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    public async Task StopAsync(bool immediate, TimeSpan escalateAfter, CancellationToken ct)
    {
        int? found = Postmaster.LivePid(DataDir);
        if (found is not int pid) return;

        // SIGINT = fast shutdown (abort sessions, checkpoint), SIGQUIT = immediate (no checkpoint,
        // crash recovery at the next start). See "Shutting Down the Server" in the PostgreSQL manual.
        Log.Stopping(_log, immediate ? "immediate" : "fast", pid);
        Postmaster.Signal(pid, immediate ? Tmds.Linux.LibC.SIGQUIT : Tmds.Linux.LibC.SIGINT);
        if (await GoneWithinAsync(pid, escalateAfter, ct).ConfigureAwait(false)) { Log.Stopped(_log, pid); return; }

        if (!immediate)
        {
            Log.Escalating(_log, pid, escalateAfter);
            Postmaster.Signal(pid, Tmds.Linux.LibC.SIGQUIT);
            if (await GoneWithinAsync(pid, escalateAfter, ct).ConfigureAwait(false)) { Log.Stopped(_log, pid); return; }
        }

        // Last resort, so the call stays bounded: the children notice the postmaster's death and exit.
        Log.Killing(_log, pid);
        Postmaster.Signal(pid, Tmds.Linux.LibC.SIGKILL);
        if (await GoneWithinAsync(pid, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false)) { Log.Stopped(_log, pid); return; }
        throw new PostgresControlException($"postmaster {pid} survived SIGKILL");
    }

    async Task<bool> GoneWithinAsync(int pid, TimeSpan limit, CancellationToken ct)
    {
        var start = _time.GetTimestamp();
        while (Postmaster.IsPostmasterOf(pid, DataDir))
        {
            if (_time.GetElapsedTime(start) >= limit) return false;
            await Task.Delay(PollInterval, _time, ct).ConfigureAwait(false);
        }
        return true;
    }

    // ---------------------------------------------------------------- follow, promote, slots

    public async Task FollowAsync(Upstream upstream, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        if (Postmaster.LivePid(DataDir) is null)
        {
            Log.Following(_log, upstream.Name, "start");
            await StartAsync(upstream, timeout, ct).ConfigureAwait(false);
            return;
        }

        var state = await ProbeAsync(ct).ConfigureAwait(false);
        if (state.IsReplica)
        {
            // PostgreSQL 13+: primary_conninfo and primary_slot_name are reloadable (sighup); on a change
            // the startup process restarts the WAL receiver with the new values. No restart needed.
            if (WriteManagedFiles(upstream))
            {
                Log.Following(_log, upstream.Name, "reload");
                await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
                await ExecAsync(conn, "SELECT pg_reload_conf()", ct).ConfigureAwait(false);
            }
            return;
        }

        // A running primary (or one that does not answer) becomes a standby only through a restart.
        Log.Following(_log, upstream.Name, "restart");
        await StopAsync(immediate: false, escalateAfter: timeout / 2, ct).ConfigureAwait(false);
        await StartAsync(upstream, timeout, ct).ConfigureAwait(false);
    }

    public async Task<long> PromoteAsync(TimeSpan timeout, CancellationToken ct)
    {
        Log.Promoting(_log);
        int waitSeconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using (var cmd = new NpgsqlCommand("SELECT pg_promote(true, $1)", conn))
        {
            cmd.CommandTimeout = waitSeconds + 5;
            cmd.Parameters.Add(new NpgsqlParameter { Value = waitSeconds });
            if (await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true)
                throw new TimeoutException($"pg_promote did not finish within {waitSeconds}s");
        }
        // PostgreSQL removed standby.signal itself; the managed file must forget primary_conninfo too,
        // so that the next start is a primary's.
        WriteManagedFiles(upstream: null);
        await ExecAsync(conn, "SELECT pg_reload_conf()", ct).ConfigureAwait(false);
        await using (var cmd = new NpgsqlCommand("SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int", conn))
        {
            long timeline = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            Log.Promoted(_log, timeline);
            return timeline;
        }
    }

    public async Task SyncReplicationSlotsAsync(IReadOnlyCollection<string> memberNames, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(memberNames);
        string own = ManagedFiles.SlotName(_member);
        var wanted = memberNames.Select(ManagedFiles.SlotName).Where(n => n != own).ToHashSet(StringComparer.Ordinal);

        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var existing = new Dictionary<string, bool>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("SELECT slot_name::text, active FROM pg_catalog.pg_replication_slots WHERE slot_type = 'physical'", conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) existing[r.GetString(0)] = r.GetBoolean(1);
        }

        foreach (var name in wanted.Where(n => !existing.ContainsKey(n)).Order(StringComparer.Ordinal))
        {
            // immediately_reserve: the slot holds WAL from now on, before the standby first connects.
            await using var cmd = new NpgsqlCommand(
                "SELECT pg_catalog.pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS " +
                "(SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1)", conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = name });
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            Log.Slot(_log, name, "created");
        }
        foreach (var (name, active) in existing.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            // An active slot is in use by a walsender: dropping it fails; it goes on a later cycle.
            if (wanted.Contains(name) || active) continue;
            await using var cmd = new NpgsqlCommand(
                "SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots " +
                "WHERE slot_name = $1 AND slot_type = 'physical' AND NOT active", conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = name });
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            Log.Slot(_log, name, "dropped");
        }
    }

    // ---------------------------------------------------------------- files

    /// <summary>Writes the managed files for the role; true when <see cref="ManagedFiles.ConfFileName"/> changed.</summary>
    bool WriteManagedFiles(Upstream? upstream)
    {
        EnsureRunDir();
        if (Encoding.UTF8.GetByteCount(Path.Combine(RunDir, ".s.PGSQL." + _pg.Port.ToString(CultureInfo.InvariantCulture) + ".lock")) > 107)
            throw new PostgresControlException($"socket path under {RunDir} is longer than a unix socket address allows (107 bytes): use a shorter data_dir");

        string confPath = Path.Combine(DataDir, "postgresql.conf");
        if (File.Exists(confPath) && ManagedFiles.WithInclude(File.ReadAllText(confPath)) is string withInclude)
            WriteOwned(confPath, withInclude);

        bool changed = WriteOwned(Path.Combine(DataDir, ManagedFiles.ConfFileName),
            ManagedFiles.RenderConf(_pg, _member, RunDir, upstream));
        WriteOwned(Path.Combine(DataDir, "pg_hba.conf"), ManagedFiles.RenderHba(_pg));
        WriteOwned(Path.Combine(DataDir, "pg_ident.conf"), ManagedFiles.RenderIdent(_pg));

        string signal = Path.Combine(DataDir, "standby.signal");
        if (upstream is not null)
        {
            if (!File.Exists(signal)) WriteOwned(signal, "");
        }
        else
        {
            File.Delete(signal);
        }
        return changed;
    }

    /// <summary>Atomically replaces <paramref name="path"/> (0600, run-as user); false when the content was already so.</summary>
    bool WriteOwned(string path, string content)
    {
        try
        {
            if (File.Exists(path) && File.ReadAllText(path) == content) return false;
        }
        catch (IOException) { }
        string tmp = path + ".appliance-tmp";
        File.Delete(tmp);
        using (var fs = new FileStream(tmp, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            var bytes = Encoding.UTF8.GetBytes(content);
            fs.Write(bytes);
            fs.Flush(flushToDisk: true);
        }
        _user.Own(tmp);
        File.Move(tmp, path, overwrite: true);
        return true;
    }

    void EnsureRunDir()
    {
        if (!Directory.Exists(RunDir))
        {
            Directory.CreateDirectory(RunDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        _user.Own(RunDir);
    }

    void EnsureLogFile()
    {
        if (!File.Exists(LogFile))
        {
            using var _ = new FileStream(LogFile, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
            });
        }
        _user.Own(LogFile);
    }

    /// <summary>Creates the data directory (and a missing parent) for the run-as user, mode 0700; it must be empty.</summary>
    void PrepareEmptyDataDir()
    {
        string parent = Path.GetDirectoryName(DataDir) ?? "/";
        if (!Directory.Exists(parent))
        {
            Directory.CreateDirectory(parent);
            _user.Own(parent);
        }
        if (!Directory.Exists(DataDir))
            Directory.CreateDirectory(DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        else if (Directory.EnumerateFileSystemEntries(DataDir).Any())
            throw new PostgresControlException($"{DataDir} is not empty");
        File.SetUnixFileMode(DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _user.Own(DataDir);
        EnsureRunDir();
    }

    void EmptyDataDir()
    {
        foreach (var entry in new DirectoryInfo(DataDir).EnumerateFileSystemInfos())
        {
            // A symlink (pg_wal elsewhere, a tablespace) is removed as a link; its target is left alone.
            if (entry is DirectoryInfo d && d.LinkTarget is null) d.Delete(recursive: true);
            else entry.Delete();
        }
    }

    void RefuseWhenRunning(string what)
    {
        if (Postmaster.LivePid(DataDir) is int pid)
            throw new PostgresControlException($"cannot {what}: postmaster {pid} is running on {DataDir}");
    }

    /// <summary>
    /// A postmaster.pid whose pid is not a live postmaster of this directory (SIGKILL, power loss). PostgreSQL
    /// would refuse to start if that pid now belongs to some other live process, so it goes.
    /// </summary>
    void RemoveStaleLocks()
    {
        string file = Path.Combine(DataDir, "postmaster.pid");
        if (File.Exists(file))
        {
            Log.StaleLock(_log, Postmaster.ReadPid(DataDir));
            File.Delete(file);
        }
        // The socket lock names the dead postmaster too. PostgreSQL trusts kill(pid, 0), which succeeds
        // while a killed postmaster is an unreaped zombie (an init that reaps late): it would refuse to
        // start until then. The socket folder is this data dir's alone and no postmaster runs on it.
        if (Directory.Exists(RunDir))
            foreach (var stale in Directory.EnumerateFiles(RunDir, ".s.PGSQL.*.lock"))
                File.Delete(stale);
    }

    string LogTail(int lines = 20)
    {
        try
        {
            var all = File.ReadAllLines(LogFile);
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"(no log at {LogFile})";
        }
    }

    static async Task ExecAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
