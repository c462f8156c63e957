using Npgsql;

namespace Appliance.Lab.Checker;

/// <summary>
/// A Jepsen-style client load for fault scenarios: inserters write unique ids (durability), bank clients move
/// money between accounts (atomicity), all through one address, recording every write in a <see cref="History"/>
/// for the <see cref="Checker"/>. Clients reconnect after any error and never stop on their own.
/// </summary>
public sealed class Workload : IAsyncDisposable
{
    readonly WorkloadOptions _options;
    readonly long _origin;
    readonly CancellationTokenSource _stop;
    readonly CancellationTokenSource _abort = new();
    readonly List<Task> _clients = [];
    long _nextId;
    long _acked, _failed, _indeterminate;
    long _lastAckTicks = -1;
    ServedBy? _lastServer;
    Task<History>? _stopping;

    Workload(WorkloadOptions options, History history, long origin, CancellationToken ct)
    {
        _options = options;
        History = history;
        _origin = origin;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
    }

    /// <summary>Everything recorded so far; complete once <see cref="StopAsync"/> returned.</summary>
    public History History { get; }

    /// <summary>Now, on the history's clock: record fault times with it to compare them with write gaps.</summary>
    public TimeSpan Elapsed => _options.Time.GetElapsedTime(_origin);

    /// <summary>
    /// Sets the tables up (retrying until <see cref="WorkloadOptions.SetupTimeout"/>, the cluster may be settling)
    /// and starts the clients. Cancelling <paramref name="ct"/> stops the clients as <see cref="StopAsync"/> would.
    /// </summary>
    /// <exception cref="TimeoutException">Set-up never succeeded; the last error is the inner exception.</exception>
    public static async Task<Workload> StartAsync(WorkloadOptions options, CancellationToken ct = default)
    {
        var cs = WorkloadSql.Tune(options.ConnectionString, options.ConnectTimeout, options.CommandTimeout);
        var random = options.Seed is { } seed ? new Random(seed) : new Random();
        var idBase = options.IdBase ?? random.NextInt64(1, long.MaxValue / History.IdRange - 1) * History.IdRange;
        await SetUpAsync(cs, idBase, options, ct);
        var time = options.Time;
        var history = new History(idBase, options.Accounts, options.InitialBalance, time.GetUtcNow());
        var w = new Workload(options, history, time.GetTimestamp(), ct);
        w.Start(cs, random);
        return w;
    }

    static async Task SetUpAsync(string cs, long run, WorkloadOptions options, CancellationToken ct)
    {
        var started = options.Time.GetTimestamp();
        while (true)
        {
            try
            {
                await using var conn = new NpgsqlConnection(cs);
                await conn.OpenAsync(ct);
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using var cmd = new NpgsqlCommand(WorkloadSql.SetUp(run, options.Accounts, options.InitialBalance), conn, tx);
                await cmd.ExecuteNonQueryAsync(ct);
                await tx.CommitAsync(ct);
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (options.Time.GetElapsedTime(started) > options.SetupTimeout)
                    throw new TimeoutException($"workload set-up did not succeed within {options.SetupTimeout.TotalSeconds:0} s: {e.Message}", e);
                await Task.Delay(TimeSpan.FromMilliseconds(200), options.Time, ct);
            }
        }
    }

    void Start(string cs, Random random)
    {
        int clients = _options.Inserters + _options.BankClients;
        var period = _options.WritesPerSecond > 0 ? TimeSpan.FromSeconds(clients / _options.WritesPerSecond) : TimeSpan.Zero;
        for (int i = 0; i < clients; i++)
        {
            var client = new WorkloadClient(i + 1, History.IdBase, cs, () => Elapsed, _options.Time);
            if (i < _options.Inserters)
            {
                _clients.Add(Task.Run(() => LoopAsync(client, period,
                    c => c.InsertAsync(History.IdBase + Interlocked.Increment(ref _nextId), _abort.Token))));
            }
            else
            {
                var own = new Random(random.Next());
                _clients.Add(Task.Run(() => LoopAsync(client, period, c =>
                {
                    int from = own.Next(1, _options.Accounts + 1);
                    int to = own.Next(1, _options.Accounts);
                    if (to >= from) to++;
                    return c.TransferAsync(from, to, own.Next(1, 101), _abort.Token);
                })));
            }
        }
    }

    async Task LoopAsync(WorkloadClient client, TimeSpan period, Func<WorkloadClient, Task<Operation>> write)
    {
        await using var _ = client;
        var due = Elapsed;
        while (!_stop.IsCancellationRequested)
        {
            var op = await write(client);
            Record(op);
            TimeSpan wait;
            if (!op.IsAcked) wait = _options.Backoff;
            else
            {
                // Paced by a schedule, not a sleep after each write, so slow writes do not lower the rate; no catching up after a stall.
                due += period;
                wait = due - Elapsed;
                if (wait < -period) due = Elapsed;
            }
            if (wait <= TimeSpan.Zero) continue;
            try { await Task.Delay(wait, _options.Time, _stop.Token); }
            catch (OperationCanceledException) { break; }
        }
    }

    void Record(Operation op)
    {
        History.Add(op);
        switch (op.Outcome)
        {
            case Outcome.Ok:
                Interlocked.Increment(ref _acked);
                Volatile.Write(ref _lastServer, op.Server);
                long end = op.End.Ticks, seen;
                while ((seen = Interlocked.Read(ref _lastAckTicks)) < end && Interlocked.CompareExchange(ref _lastAckTicks, end, seen) != seen) { }
                break;
            case Outcome.Failed: Interlocked.Increment(ref _failed); break;
            default: Interlocked.Increment(ref _indeterminate); break;
        }
    }

    /// <summary>Live progress, cheap enough to call a few times a second while the workload runs.</summary>
    public WorkloadSnapshot Snapshot()
    {
        var now = Elapsed;
        var cutoff = now - TimeSpan.FromSeconds(1);
        // Operations are appended as they end, give or take a slow write: look a little further back than a second.
        var lastSecond = History.ScanRecent(ops => ops.TakeWhile(o => o.End >= cutoff - _options.CommandTimeout).Count(o => o.IsAcked && o.End >= cutoff));
        var lastAck = Interlocked.Read(ref _lastAckTicks);
        return new(now, Interlocked.Read(ref _acked), Interlocked.Read(ref _failed), Interlocked.Read(ref _indeterminate),
            lastSecond, lastAck < 0 ? now : now - TimeSpan.FromTicks(lastAck), Volatile.Read(ref _lastServer));
    }

    /// <summary>
    /// Stops starting writes, lets those in flight finish (up to <see cref="WorkloadOptions.StopGrace"/>, then
    /// cancels them: they end indeterminate if their commit may have been sent) and returns the complete history.
    /// Idempotent.
    /// </summary>
    public Task<History> StopAsync()
    {
        lock (_clients) return _stopping ??= StopCoreAsync();
    }

    async Task<History> StopCoreAsync()
    {
        await _stop.CancelAsync();
        History.MarkStopped(Elapsed);
        var all = Task.WhenAll(_clients);
        using (var grace = new CancellationTokenSource())
        {
            if (await Task.WhenAny(all, Task.Delay(_options.StopGrace, _options.Time, grace.Token)) != all) await _abort.CancelAsync();
            await grace.CancelAsync();
        }
        await all;
        _stop.Dispose();
        _abort.Dispose();
        return History;
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
