using System.Globalization;
using Npgsql;

namespace Appliance.Lab.Checker;

/// <summary>The workload's SQL in one place: its tables, and the writes that also say who served them.</summary>
static class WorkloadSql
{
    /// <summary>
    /// The serving node and its timeline, evaluated inside the write's transaction. <c>inet_server_addr()</c> is the
    /// address the server accepted the connection on (the node, not the proxy); on a primary <c>pg_walfile_name</c>
    /// names the segment on the current insert timeline, whose first 8 hex digits are the timeline.
    /// </summary>
    const string ServedBy = "coalesce(host(inet_server_addr()), 'local'), coalesce(inet_server_port(), 0), " +
        "('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int";

    /// <summary>One autocommit statement: its results are an acknowledgement only once read through to the end.</summary>
    public const string Insert = $"INSERT INTO appl_check_insert(id, client) VALUES ($1, $2) RETURNING {ServedBy}";

    /// <summary>One account of this run's bank ($3 the run, $2 the account) gets $1.</summary>
    public const string Move = "UPDATE appl_check_bank SET balance = balance + $1 WHERE run = $3 AND account = $2";

    public const string MoveReturning = $"{Move} RETURNING {ServedBy}";

    /// <summary>This run's accounts, the run numbered by its id base.</summary>
    public const string Balances = "SELECT account, balance FROM appl_check_bank WHERE run = $1";

    /// <summary>
    /// Creates the tables if absent and opens this run's bank, so each run starts from a known total.
    /// Every run has accounts of its own: a transaction an earlier run left open on a proxy that lost
    /// its VIP (HAProxy keeps such sessions until its client timeout) holds locks on that run's rows only.
    /// </summary>
    public static string SetUp(long run, int accounts, long initialBalance) => string.Create(CultureInfo.InvariantCulture, $"""
        CREATE TABLE IF NOT EXISTS appl_check_insert(id bigint PRIMARY KEY, client int NOT NULL, at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS appl_check_bank(run bigint NOT NULL, account int NOT NULL, balance bigint NOT NULL, PRIMARY KEY (run, account));
        INSERT INTO appl_check_bank(run, account, balance) SELECT {run}, g, {initialBalance} FROM generate_series(1, {accounts}) g ON CONFLICT DO NOTHING;
        """);

    public static ServedBy ReadServedBy(NpgsqlDataReader r, int first)
        => new($"{r.GetString(first)}:{r.GetInt32(first + 1)}", r.GetInt32(first + 2));

    /// <summary>The client settings every workload and reader connection uses: no pool (a reconnect is a real one), short timeouts.</summary>
    public static string Tune(string connectionString, TimeSpan connectTimeout, TimeSpan commandTimeout) => new NpgsqlConnectionStringBuilder(connectionString)
    {
        Pooling = false,
        Timeout = Math.Max(1, (int)Math.Ceiling(connectTimeout.TotalSeconds)),
        CommandTimeout = Math.Max(1, (int)Math.Ceiling(commandTimeout.TotalSeconds)),
        ApplicationName = "appliance-checker",
    }.ConnectionString;
}
