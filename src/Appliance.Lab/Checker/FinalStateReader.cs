using Npgsql;

namespace Appliance.Lab.Checker;

/// <summary>
/// Reads a <see cref="FinalState"/> after a scenario, retrying until a deadline because the cluster may still be
/// recovering. The only I/O the checker needs; the judging stays in <see cref="Checker"/>.
/// </summary>
public static class FinalStateReader
{
    const string Who = "SELECT coalesce(host(inet_server_addr()), 'local'), coalesce(inet_server_port(), 0), pg_is_in_recovery()";

    /// <summary>Reads the run's ids and the bank from one node (primary or replica), in one snapshot.</summary>
    /// <exception cref="TimeoutException">No successful read within <paramref name="timeout"/>.</exception>
    public static Task<FinalState> ReadAsync(string connectionString, History history, TimeSpan timeout, CancellationToken ct = default)
        => RetryAsync(timeout, async () => await TryReadAsync(connectionString, history, primaryOnly: false, ct)
            ?? throw new InvalidOperationException("unreachable"), ct);

    /// <summary>
    /// Reads from the one node among <paramref name="connectionStrings"/> that is a primary, waiting until exactly
    /// one of those that answer is (an old primary that still thinks it is one keeps this waiting, then failing).
    /// </summary>
    public static Task<FinalState> ReadFromPrimaryAsync(IReadOnlyList<string> connectionStrings, History history, TimeSpan timeout, CancellationToken ct = default)
        => RetryAsync(timeout, async () =>
        {
            var states = new List<FinalState>();
            foreach (var cs in connectionStrings)
            {
                try
                {
                    if (await TryReadAsync(cs, history, primaryOnly: true, ct) is { } s) states.Add(s);
                }
                catch (Exception) when (!ct.IsCancellationRequested) { }
            }
            return states.Count == 1 ? states[0]
                : throw new InvalidOperationException(states.Count == 0 ? "no primary answers" : $"{states.Count} primaries: {string.Join(", ", states.Select(s => s.Source))}");
        }, ct);

    static async Task<FinalState> RetryAsync(TimeSpan timeout, Func<Task<FinalState>> read, CancellationToken ct)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            try
            {
                return await read();
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (TimeProvider.System.GetElapsedTime(started) > timeout)
                    throw new TimeoutException($"no final state within {timeout.TotalSeconds:0} s: {e.Message}", e);
                await Task.Delay(TimeSpan.FromMilliseconds(300), ct);
            }
        }
    }

    /// <summary>Null when <paramref name="primaryOnly"/> and the node is in recovery.</summary>
    static async Task<FinalState?> TryReadAsync(string connectionString, History history, bool primaryOnly, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(WorkloadSql.Tune(connectionString, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30)));
        await conn.OpenAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        string source;
        await using (var cmd = new NpgsqlCommand(Who, conn, tx))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            await r.ReadAsync(ct);
            var replica = r.GetBoolean(2);
            if (primaryOnly && replica) return null;
            source = $"{r.GetString(0)}:{r.GetInt32(1)} ({(replica ? "replica" : "primary")})";
        }
        var ids = new HashSet<long>();
        await using (var cmd = new NpgsqlCommand("SELECT id FROM appl_check_insert WHERE id >= $1 AND id < $2", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = history.IdBase });
            cmd.Parameters.Add(new() { Value = history.IdBase + History.IdRange });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) ids.Add(r.GetInt64(0));
        }
        var balances = new Dictionary<int, long>();
        await using (var cmd = new NpgsqlCommand(WorkloadSql.Balances, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = history.IdBase });
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) balances[r.GetInt32(0)] = r.GetInt64(1);
        }
        await tx.CommitAsync(ct);
        return new FinalState(source, ids, balances);
    }
}
