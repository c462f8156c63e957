using Appliance.Configuration;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>
/// The proxy's health checks (HAProxy's <c>check</c>, <c>inter</c>, <c>fastinter</c>, <c>rise</c>,
/// <c>fall</c>): one <see cref="CheckLoop"/> per tracked backend, all running the same
/// <see cref="IBackendCheck"/>. Routing reads <see cref="Statuses"/> and listens to <see cref="Changed"/>.
/// </summary>
public sealed class HealthChecks : IHealthChecks, IAsyncDisposable, IDisposable
{
    readonly Lock _gate = new();
    readonly Dictionary<string, CheckLoop> _loops = new(StringComparer.Ordinal);
    /// <summary>Loops told to stop whose task has not ended yet: awaited (and disposed) before this is.</summary>
    readonly List<CheckLoop> _stopping = [];
    int _fast;
    bool _disposed;

    /// <param name="settings"><c>[proxy.check]</c>: intervals and rise/fall.</param>
    /// <param name="check">The check every backend gets; disposed with this when it is disposable.</param>
    /// <param name="time">The clock of the intervals and timestamps.</param>
    /// <param name="log">Where state changes are logged.</param>
    public HealthChecks(ProxyCheckSection settings, IBackendCheck check, TimeProvider time, ILogger log)
    {
        Settings = settings;
        Check = check;
        Time = time;
        Log = log;
    }

    /// <summary>The checks <c>[proxy]</c> asks for.</summary>
    public static HealthChecks Create(ProxySection proxy, TimeProvider time, ILogger log)
        => new(proxy.Check, BackendChecks.Create(proxy, time), time, log);

    internal ProxyCheckSection Settings { get; }
    internal IBackendCheck Check { get; }
    internal TimeProvider Time { get; }
    internal ILogger Log { get; }

    public event Action? Changed;

    public bool Fast
    {
        get => Volatile.Read(ref _fast) == 1;
        set
        {
            // Turning fast on means some pool waits for a server: check everyone now, not after the slow wait.
            if (Interlocked.Exchange(ref _fast, value ? 1 : 0) == 0 && value)
                lock (_gate) foreach (var loop in _loops.Values) loop.Wake();
        }
    }

    public IReadOnlyDictionary<string, CheckStatus> Statuses
    {
        get
        {
            lock (_gate) return _loops.ToDictionary(kv => kv.Key, kv => kv.Value.Status, StringComparer.Ordinal);
        }
    }

    public void Track(IReadOnlyCollection<CheckTarget> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        var wanted = new Dictionary<string, CheckTarget>(StringComparer.Ordinal);
        foreach (var t in targets) wanted[t.Backend.Name] = t;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _stopping.RemoveAll(Reap);
            foreach (var (name, loop) in _loops.ToList())
            {
                // Gone, or the same name at a new address: a different server, so its checks start again (down).
                if (wanted.TryGetValue(name, out var t) && t == loop.Target) continue;
                loop.Stop();
                _loops.Remove(name);
                _stopping.Add(loop);
                Log.Untracked(name);
            }
            foreach (var (name, t) in wanted)
            {
                if (_loops.ContainsKey(name)) continue;
                Log.Tracking(name, t.Backend.Host, t.Backend.Port, t.ApiUrl ?? "none", Settings.Inter.TotalMilliseconds, Check.Type);
                _loops[name] = new CheckLoop(this, t);
            }
        }
    }

    public void CheckNow(string backend)
    {
        lock (_gate)
            if (_loops.TryGetValue(backend, out var loop)) loop.Wake();
    }

    /// <summary>Loops still running, stopped ones included until their task ends (tests).</summary>
    internal int RunningLoops
    {
        get
        {
            lock (_gate) return _loops.Values.Concat(_stopping).Count(l => !l.Task.IsCompleted);
        }
    }

    internal void RaiseChanged()
    {
        try
        {
            Changed?.Invoke();
        }
        catch (Exception e)
        {
            // A subscriber's bug must not end a backend's checks.
            Log.HandlerThrew(e);
        }
    }

    static bool Reap(CheckLoop loop)
    {
        if (!loop.Task.IsCompleted) return false;
        loop.Dispose();
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        List<CheckLoop> all;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            all = [.. _loops.Values, .. _stopping];
            _loops.Clear();
            _stopping.Clear();
        }
        foreach (var loop in all) loop.Stop();
        await Task.WhenAll(all.Select(l => l.Task)).ConfigureAwait(false);
        foreach (var loop in all) loop.Dispose();
        (Check as IDisposable)?.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
