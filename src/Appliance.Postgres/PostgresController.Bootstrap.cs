using System.Globalization;
using Appliance.Configuration;
using Appliance.Node;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Appliance.Postgres;

/// <summary>A new cluster: initdb and the roles.</summary>
public sealed partial class PostgresController
{
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
        WriteManagedFiles(upstream: null, standby: false);
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
}
