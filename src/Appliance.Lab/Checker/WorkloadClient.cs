using Npgsql;

namespace Appliance.Lab.Checker;

/// <summary>
/// One client's connection and its two writes. Each write is one <see cref="Operation"/>; any error drops the
/// connection (the next write reconnects) and becomes an outcome, never an exception.
/// </summary>
sealed class WorkloadClient(int id, long run, string connectionString, Func<TimeSpan> elapsed, TimeProvider time) : IAsyncDisposable
{
    NpgsqlConnection? _connection;

    public int Id => id;

    public async Task<Operation> InsertAsync(long rowId, CancellationToken ct)
    {
        var (start, wall) = (elapsed(), time.GetUtcNow());
        bool sent = false;
        try
        {
            var conn = await OpenAsync(ct);
            await using var cmd = new NpgsqlCommand(WorkloadSql.Insert, conn);
            cmd.Parameters.Add(new() { Value = rowId });
            cmd.Parameters.Add(new() { Value = id });
            sent = true;
            ServedBy server;
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                if (!await reader.ReadAsync(ct)) throw new InvalidOperationException("the insert returned no row");
                server = WorkloadSql.ReadServedBy(reader, 0);
                // The row comes before the implicit commit: only the end of the statement acknowledges it.
                while (await reader.NextResultAsync(ct)) { }
            }
            return Operation.Insert(id, rowId, start, elapsed(), Outcome.Ok, server, startedAt: wall);
        }
        catch (Exception e)
        {
            await DropAsync();
            return Operation.Insert(id, rowId, start, elapsed(), OutcomeClassifier.Classify(e, sent), error: OutcomeClassifier.Describe(e), startedAt: wall);
        }
    }

    /// <summary>Moves <paramref name="amount"/> from one account to another in one transaction, updating the lower account first so two transfers never deadlock.</summary>
    public async Task<Operation> TransferAsync(int from, int to, long amount, CancellationToken ct)
    {
        var (start, wall) = (elapsed(), time.GetUtcNow());
        bool sent = false;
        try
        {
            var conn = await OpenAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var (first, second) = from < to ? ((from, -amount), (to, amount)) : ((to, amount), (from, -amount));
            await using (var cmd = new NpgsqlCommand(WorkloadSql.Move, conn, tx))
            {
                cmd.Parameters.Add(new() { Value = first.Item2 });
                cmd.Parameters.Add(new() { Value = first.Item1 });
                cmd.Parameters.Add(new() { Value = run });
                if (await cmd.ExecuteNonQueryAsync(ct) != 1) throw new InvalidOperationException($"account {first.Item1} is missing");
            }
            ServedBy server;
            await using (var cmd = new NpgsqlCommand(WorkloadSql.MoveReturning, conn, tx))
            {
                cmd.Parameters.Add(new() { Value = second.Item2 });
                cmd.Parameters.Add(new() { Value = second.Item1 });
                cmd.Parameters.Add(new() { Value = run });
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct)) throw new InvalidOperationException($"account {second.Item1} is missing");
                server = WorkloadSql.ReadServedBy(reader, 0);
            }
            sent = true;
            await tx.CommitAsync(ct);
            return Operation.Transfer(id, from, to, amount, start, elapsed(), Outcome.Ok, server, startedAt: wall);
        }
        catch (Exception e)
        {
            await DropAsync();
            return Operation.Transfer(id, from, to, amount, start, elapsed(), OutcomeClassifier.Classify(e, sent), error: OutcomeClassifier.Describe(e), startedAt: wall);
        }
    }

    async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        if (_connection is { State: System.Data.ConnectionState.Open }) return _connection;
        await DropAsync();
        var conn = new NpgsqlConnection(connectionString);
        try
        {
            await conn.OpenAsync(ct);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
        return _connection = conn;
    }

    async Task DropAsync()
    {
        if (_connection is null) return;
        try { await _connection.DisposeAsync(); } catch (Exception) { }
        _connection = null;
    }

    public ValueTask DisposeAsync() => new(DropAsync());
}
