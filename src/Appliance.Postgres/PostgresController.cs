using System.Globalization;
using System.Text;
using Appliance.Configuration;
using Appliance.Node;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Appliance.Postgres;

/// <summary>
/// <see cref="IPostgresController"/> over PostgreSQL 15's own programs (initdb, pg_ctl, pg_basebackup, pg_rewind),
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
public sealed partial class PostgresController : IPostgresController, IDisposable
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
}
