using Appliance.Proxy;
using Npgsql;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>
/// The stronger PostgreSQL check: logs in (as <c>user</c>, with <c>password</c> when set, to <c>database</c>)
/// and asks <c>pg_is_in_recovery()</c>, so it tells a primary from a replica without the REST API. A refused
/// login, a missing database or "too many clients" fail at the Server layer with their SQLSTATE.
/// </summary>
/// <remarks>
/// Npgsql without pooling: each check is one real login, the thing being checked. The slim data source
/// builder keeps it AOT-clean. The password lives only in the connection string, which is never logged;
/// Npgsql's messages do not carry it.
/// </remarks>
public sealed class PgsqlLoginCheck(string user, string? password, string database, TimeSpan timeout, TimeProvider time) : IBackendCheck
{
    public string Type => "pgsql-login";

    public Task<CheckOutcome> RunAsync(CheckTarget target, CancellationToken ct)
        => CheckRun.TimedAsync(time, timeout, async token =>
        {
            var seconds = (int)Math.Max(1, Math.Ceiling(timeout.TotalSeconds));
            var cs = new NpgsqlConnectionStringBuilder
            {
                Host = target.Backend.Host,
                Port = target.Backend.Port,
                Username = user,
                Password = password,
                Database = database,
                ApplicationName = "appliance-check",
                Pooling = false,
                Timeout = seconds,
                CommandTimeout = seconds,
            };
            await using var source = new NpgsqlSlimDataSourceBuilder(cs.ConnectionString).Build();
            try
            {
                await using var conn = await source.OpenConnectionAsync(token).ConfigureAwait(false);
                await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery()", conn);
                var inRecovery = await cmd.ExecuteScalarAsync(token).ConfigureAwait(false) is true;
                return inRecovery
                    ? CheckOutcome.Pass(BackendRole.Replica, "logged in: pg_is_in_recovery() is true")
                    : CheckOutcome.Pass(BackendRole.Primary, "logged in: pg_is_in_recovery() is false");
            }
            catch (PostgresException e)
            {
                return CheckOutcome.Fail(CheckLayer.Server, $"{e.SqlState}: {e.MessageText}");
            }
            catch (NpgsqlException e) when (!token.IsCancellationRequested && CheckRun.Classify(e) is null)
            {
                // Npgsql's own refusals (the server asks for a password none is configured for, an
                // unexpected message): the server answered, but not as a login that works.
                return CheckOutcome.Fail(CheckLayer.Server, e.Message);
            }
        }, ct);
}
