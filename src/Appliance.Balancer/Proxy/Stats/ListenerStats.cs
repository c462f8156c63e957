using System.Collections.Concurrent;

namespace Appliance.Balancer.Proxy.Stats;

/// <summary>A listener's counters, updated lock-free by the sessions and read at scrape time.</summary>
public sealed class ListenerStats(string name)
{
    long _current, _total, _queued, _bytesIn, _bytesOut;
    readonly ConcurrentDictionary<string, long> _closed = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, long> _paths = new(StringComparer.Ordinal);
    // Sessions whose bytes the kernel moves unseen: each brings its counts up to date when asked.
    readonly ConcurrentDictionary<long, Action> _live = new();
    long _nextLive;

    public string Name { get; } = name;
    public long SessionsCurrent => Interlocked.Read(ref _current);
    public long SessionsTotal => Interlocked.Read(ref _total);
    /// <summary>Clients waiting for a server right now.</summary>
    public long Queued => Interlocked.Read(ref _queued);
    /// <summary>Bytes from clients.</summary>
    public long BytesIn { get { Refresh(); return Interlocked.Read(ref _bytesIn); } }
    /// <summary>Bytes to clients.</summary>
    public long BytesOut { get { Refresh(); return Interlocked.Read(ref _bytesOut); } }
    /// <summary>Connections closed by the proxy before or instead of a normal end, by bounded reason (<c>bad_startup</c>, <c>startup_timeout</c>, <c>queue_timeout</c>, <c>queue_full</c>, <c>connect_failed</c>, <c>shutdown_sessions</c>, <c>client_timeout</c>, …).</summary>
    public IReadOnlyDictionary<string, long> Closed => _closed;
    /// <summary>Sessions handed to each data path (<c>copy</c>, <c>splice</c>, <c>sockmap</c>): with <c>auto</c>, or after a per-connection fallback, more than one.</summary>
    public IReadOnlyDictionary<string, long> Paths => _paths;

    public void SessionStarted() { Interlocked.Increment(ref _current); Interlocked.Increment(ref _total); }
    public void SessionEnded() => Interlocked.Decrement(ref _current);
    public void QueueEntered() => Interlocked.Increment(ref _queued);
    public void QueueLeft() => Interlocked.Decrement(ref _queued);
    public void AddIn(long bytes) => Interlocked.Add(ref _bytesIn, bytes);
    public void AddOut(long bytes) => Interlocked.Add(ref _bytesOut, bytes);
    public void CountClose(string reason) => _closed.AddOrUpdate(reason, 1, (_, n) => n + 1);
    public void CountPath(string path) => _paths.AddOrUpdate(path, 1, (_, n) => n + 1);

    /// <summary>Registers a session whose byte counts <paramref name="refresh"/> brings up to date (it adds to this listener's and its server's counters) until the result is disposed.</summary>
    public IDisposable Live(Action refresh)
    {
        long id = Interlocked.Increment(ref _nextLive);
        _live[id] = refresh;
        return new LiveSession(_live, id);
    }

    /// <summary>Brings the counts of every live kernel-moved session up to date (a scrape, or a test, reads them).</summary>
    public void Refresh()
    {
        foreach (var refresh in _live.Values) refresh();
    }

    sealed class LiveSession(ConcurrentDictionary<long, Action> live, long id) : IDisposable
    {
        public void Dispose() => live.TryRemove(id, out _);
    }
}
