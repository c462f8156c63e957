using System.Globalization;
using System.Text;
using Appliance.Configuration;
using Appliance.Node;

namespace Appliance.Postgres;

/// <summary>
/// The files the agent owns inside a data directory, rendered as text. Pure: no I/O, so every rule
/// here is a unit test. <see cref="PostgresController"/> writes what these return.
/// </summary>
/// <remarks>
/// Layout: <c>postgresql.conf</c> (initdb's) ends with one <c>include_if_exists</c> line pointing at
/// <see cref="ConfFileName"/>, which the agent rewrites before every start. Because the include comes
/// last, the agent's values win over initdb's; <c>postgresql.auto.conf</c> (ALTER SYSTEM) is read after
/// both and is left alone. <c>pg_hba.conf</c> and <c>pg_ident.conf</c> are rewritten whole.
/// </remarks>
public static class ManagedFiles
{
    public const string ConfFileName = "postgresql.appliance.conf";
    public const string IncludeLine = "include_if_exists = '" + ConfFileName + "'";

    /// <summary>
    /// Holds only <c>synchronous_standby_names</c>, included last by <see cref="ConfFileName"/>. A file of its
    /// own so the leader can change it without re-rendering the role's settings, and so it survives a crash
    /// restart of the agent: a primary that comes back keeps requiring its synchronous standbys.
    /// </summary>
    public const string SyncConfFileName = "postgresql.appliance.sync.conf";

    /// <summary>The pg_ident.conf map the default <c>local</c> hba line uses.</summary>
    public const string IdentMap = "appliance";

    /// <summary>Replication defaults; <c>[postgresql.parameters]</c> overrides any of them.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Defaults { get; } =
    [
        new("wal_level", "replica"),
        new("hot_standby", "on"),
        new("max_wal_senders", "10"),
        new("max_replication_slots", "10"),
        new("wal_keep_size", "128MB"),
        new("wal_log_hints", "on"),
    ];

    /// <summary>
    /// Settings the agent relies on (where it connects, what a standby streams from). They are written
    /// last and cannot be overridden by <c>[postgresql.parameters]</c>: a different port there would
    /// make the agent probe the wrong server.
    /// </summary>
    static readonly HashSet<string> AgentOwned = new(StringComparer.OrdinalIgnoreCase)
    {
        "listen_addresses", "port", "unix_socket_directories", "primary_conninfo", "primary_slot_name",
        "recovery_target_timeline", "hba_file", "ident_file", "data_directory", "config_file",
        "synchronous_standby_names",
    };

    /// <summary>
    /// Renders <see cref="ConfFileName"/>. For a standby (<paramref name="upstream"/> set) it carries
    /// <c>primary_conninfo</c> with the replication password: the file is written with mode 0600.
    /// </summary>
    /// <remarks>
    /// Precedence, lowest first (as Patroni's effective configuration): <see cref="Defaults"/>, then
    /// <paramref name="dynamicParameters"/> (<c>postgresql.parameters</c> of the cluster's <c>config</c> key),
    /// then the local <c>[postgresql.parameters]</c>, then the agent-owned settings, which nothing overrides.
    /// </remarks>
    public static string RenderConf(PostgresqlSection pg, string memberName, string socketDir, Upstream? upstream,
        IReadOnlyDictionary<string, string>? dynamicParameters = null)
    {
        var settings = new List<KeyValuePair<string, string>>();
        void Set(string key, string value)
        {
            int i = settings.FindIndex(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase));
            if (i >= 0) settings[i] = new(settings[i].Key, value);
            else settings.Add(new(key, value));
        }

        foreach (var kv in Defaults) Set(kv.Key, kv.Value);
        // A dynamic setting the local TOML also sets is skipped, not overwritten later: the file then reads
        // the same as without it, so such a change in the config key causes no rewrite and no reload.
        var local = new HashSet<string>(pg.Parameters.Keys, StringComparer.OrdinalIgnoreCase);
        foreach (var kv in (dynamicParameters ?? new Dictionary<string, string>()).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!AgentOwned.Contains(kv.Key) && !local.Contains(kv.Key)) Set(kv.Key, kv.Value);
        }
        foreach (var kv in pg.Parameters.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!AgentOwned.Contains(kv.Key)) Set(kv.Key, kv.Value);
        }
        Set("listen_addresses", pg.Listen);
        Set("port", pg.Port.ToString(CultureInfo.InvariantCulture));
        Set("unix_socket_directories", socketDir);
        if (upstream is not null)
        {
            Set("primary_conninfo", PrimaryConninfo(pg, memberName, upstream));
            Set("primary_slot_name", SlotName(memberName));
            Set("recovery_target_timeline", "latest");
        }

        var sb = new StringBuilder();
        sb.Append("# Written by appliance-agent before every start: edits here are lost.\n");
        sb.Append("# Set values in [postgresql.parameters] of /etc/appliance/appliance.toml instead,\n");
        sb.Append("# or for every node in the cluster's dynamic configuration (appliancectl edit-config).\n");
        sb.Append(upstream is null ? "# role: primary\n" : $"# role: standby of {upstream.Name}\n");
        foreach (var kv in settings) sb.Append(kv.Key).Append(" = ").Append(QuoteConfValue(kv.Value)).Append('\n');
        sb.Append("include_if_exists = '").Append(SyncConfFileName).Append("'\n");
        return sb.ToString();
    }

    /// <summary>Renders <see cref="SyncConfFileName"/>: the standbys that must confirm each commit (empty: none).</summary>
    public static string RenderSyncConf(string synchronousStandbyNames)
        => "# Written by appliance-agent: the synchronous standbys the leader requires (synchronous_mode).\n"
            + "synchronous_standby_names = " + QuoteConfValue(synchronousStandbyNames) + "\n";

    /// <summary>
    /// The names of the settings whose values differ between two renderings of <see cref="ConfFileName"/>
    /// (added, removed or changed), in name order: what a reload changes, for the log.
    /// </summary>
    public static IReadOnlyList<string> ChangedSettings(string before, string after)
    {
        var old = ParseConf(before);
        var now = ParseConf(after);
        return old.Keys.Union(now.Keys, StringComparer.OrdinalIgnoreCase)
            .Where(k => !old.TryGetValue(k, out var a) || !now.TryGetValue(k, out var b) || a != b)
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The <c>name = value</c> lines of a rendered conf (values left quoted: only compared).</summary>
    static Dictionary<string, string> ParseConf(string conf)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in conf.Split('\n'))
        {
            int eq = line.IndexOf(" = ", StringComparison.Ordinal);
            if (line.StartsWith('#') || eq <= 0) continue;
            d[line[..eq]] = line[(eq + 3)..];
        }
        return d;
    }

    /// <summary>libpq connection string a standby streams with (host, port, user, password, application_name).</summary>
    public static string PrimaryConninfo(PostgresqlSection pg, string memberName, Upstream upstream)
    {
        var parts = new List<string>
        {
            "host=" + QuoteConninfoValue(upstream.Host),
            "port=" + upstream.Port.ToString(CultureInfo.InvariantCulture),
            "user=" + QuoteConninfoValue(pg.Replication.Username),
        };
        if (!string.IsNullOrEmpty(pg.Replication.Password)) parts.Add("password=" + QuoteConninfoValue(pg.Replication.Password));
        parts.Add("application_name=" + QuoteConninfoValue(memberName));
        parts.Add("connect_timeout=5");
        parts.Add("sslmode=prefer");
        return string.Join(' ', parts);
    }

    /// <summary>
    /// pg_hba.conf: the configured lines, or by default local peer (through <see cref="IdentMap"/>, so
    /// root and the run-as user may log in as the superuser) and scram over TCP for everyone else.
    /// </summary>
    public static string RenderHba(PostgresqlSection pg)
    {
        var sb = new StringBuilder("# Written by appliance-agent before every start from [postgresql] pg_hba.\n");
        if (pg.PgHba.Count > 0)
        {
            foreach (var line in pg.PgHba) sb.Append(line).Append('\n');
            return sb.ToString();
        }
        string repl = QuoteHbaName(pg.Replication.Username);
        sb.Append("local all all peer map=").Append(IdentMap).Append('\n');
        sb.Append("local replication all peer map=").Append(IdentMap).Append('\n');
        foreach (var net in new[] { "127.0.0.1/32", "::1/128", "0.0.0.0/0", "::/0" })
        {
            sb.Append("host replication ").Append(repl).Append(' ').Append(net).Append(" scram-sha-256\n");
            sb.Append("host all all ").Append(net).Append(" scram-sha-256\n");
        }
        return sb.ToString();
    }

    /// <summary>
    /// pg_ident.conf: the <see cref="IdentMap"/> map. OS users map to the same-named role (plain peer);
    /// root and the run-as user may also be the superuser, which is how the agent logs in over the
    /// socket when no superuser password is configured.
    /// </summary>
    public static string RenderIdent(PostgresqlSection pg)
    {
        var sb = new StringBuilder("# Written by appliance-agent before every start.\n");
        sb.Append(IdentMap).Append(@"  /^(.*)$  \1").Append('\n');
        sb.Append(IdentMap).Append("  root  ").Append(QuoteHbaName(pg.Superuser.Username)).Append('\n');
        sb.Append(IdentMap).Append("  ").Append(pg.RunAs).Append("  ").Append(QuoteHbaName(pg.Superuser.Username)).Append('\n');
        return sb.ToString();
    }

    /// <summary>initdb's postgresql.conf with <see cref="IncludeLine"/> appended once; null when it is already there.</summary>
    public static string? WithInclude(string postgresqlConf)
    {
        foreach (var line in postgresqlConf.Split('\n'))
        {
            if (line.Trim() == IncludeLine) return null;
        }
        var sb = new StringBuilder(postgresqlConf);
        if (sb.Length > 0 && sb[^1] != '\n') sb.Append('\n');
        sb.Append("\n# Added by appliance-agent: its managed settings come last and win.\n").Append(IncludeLine).Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// Patroni's <c>slot_name_from_member_name</c>: lowercased; <c>-</c> and <c>.</c> become <c>_</c>; any
    /// other character outside <c>[a-z0-9_]</c> becomes <c>u</c> and its code point in four digits; at
    /// most 63 characters. Kept identical so slots match what Patroni nodes create.
    /// </summary>
    public static string SlotName(string memberName)
    {
        var sb = new StringBuilder();
        foreach (var rune in memberName.ToLowerInvariant().EnumerateRunes())
        {
            int c = rune.Value;
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_') sb.Append((char)c);
            else if (c is '-' or '.') sb.Append('_');
            else sb.Append('u').Append(c.ToString("D4", CultureInfo.InvariantCulture));
        }
        return sb.Length > 63 ? sb.ToString(0, 63) : sb.ToString();
    }

    /// <summary>A postgresql.conf value: single-quoted, with <c>'</c> and <c>\</c> doubled (as Patroni writes them).</summary>
    public static string QuoteConfValue(string value)
        => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A libpq conninfo value: single-quoted with <c>\</c> and <c>'</c> backslash-escaped.</summary>
    public static string QuoteConninfoValue(string value)
        => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    /// <summary>A .pgpass field: <c>:</c> and <c>\</c> backslash-escaped.</summary>
    public static string EscapePgpass(string value)
        => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal);

    /// <summary>A role name in pg_hba/pg_ident: double-quoted when it is not a plain lowercase word.</summary>
    static string QuoteHbaName(string name)
        => name.Length > 0 && name.All(c => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_') ? name : "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
