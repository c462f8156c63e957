using System.Diagnostics;
using Appliance.Lab;
using Npgsql;

namespace Appliance.Bench;

/// <summary>
/// A client writing in a loop through one multi-host connection string with
/// <c>Target Session Attributes=read-write</c> (libpq's semantics, via Npgsql), reconnecting after every
/// error. The gap runs from the last acknowledged write before the first failure after the disruption
/// to the first acknowledged write after it (a write in flight at the disruption and still
/// acknowledged is not counted as lost time). No failure at all means a gap of zero.
/// </summary>
public static class WriteGap
{
    public static async Task<TimeSpan> MeasureAsync(LocalCluster c, Func<Task> disrupt, CancellationToken ct)
    {
        var hosts = string.Join(",", c.Members.Select(m => $"127.0.0.1:{m.PgPort}"));
        var cs = $"Host={hosts};Username=postgres;Password={c.Options.SuperuserPassword};Database=postgres;" +
                 "Target Session Attributes=read-write;Timeout=2;Command Timeout=2;Pooling=false;Host Recheck Seconds=0";
        await using (var setup = new NpgsqlConnection(cs))
        {
            await setup.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS bench_writes(id bigserial primary key, at timestamptz default now())", setup);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        var clock = Stopwatch.StartNew();
        TimeSpan? disruptedAt = null, lastBefore = null, firstAfter = null, lastAck = null;
        var failedSinceDisruption = false;
        using var enough = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var writer = Task.Run(async () =>
        {
            NpgsqlConnection? conn = null;
            while (!enough.IsCancellationRequested && clock.Elapsed < TimeSpan.FromMinutes(3))
            {
                try
                {
                    if (conn is null)
                    {
                        conn = new NpgsqlConnection(cs);
                        await conn.OpenAsync(ct);
                    }
                    await using var cmd = new NpgsqlCommand("INSERT INTO bench_writes DEFAULT VALUES", conn);
                    await cmd.ExecuteNonQueryAsync(ct);
                    lastAck = clock.Elapsed;
                    if (!failedSinceDisruption) lastBefore = lastAck;
                    else firstAfter ??= lastAck;
                    if (firstAfter is not null) break;
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    if (disruptedAt is not null) failedSinceDisruption = true;
                    if (conn is not null) await conn.DisposeAsync();
                    conn = null;
                    await Task.Delay(20, ct);
                }
            }
            if (conn is not null) await conn.DisposeAsync();
        }, ct);
        await Task.Delay(2000, ct);
        disruptedAt = clock.Elapsed;
        await disrupt();
        // A disruption the client never noticed: stop after 5 s more of clean writes.
        while (!writer.IsCompleted && !failedSinceDisruption && clock.Elapsed - disruptedAt < TimeSpan.FromSeconds(30))
            await Task.Delay(100, ct);
        if (!failedSinceDisruption) await enough.CancelAsync();
        await writer;
        if (!failedSinceDisruption) return TimeSpan.Zero;
        if (firstAfter is null || lastBefore is null) throw new TimeoutException("no write succeeded after the disruption within 3 minutes");
        return firstAfter.Value - lastBefore.Value;
    }
}
