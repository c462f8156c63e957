using System.Collections.Concurrent;

namespace Appliance.Balancer.Proxy.Stats;

/// <summary>A listener's counters, updated lock-free by the sessions and read at scrape time.</summary>
public sealed class ListenerStats(string name)
{
    long _current, _total, _queued, _bytesIn, _bytesOut;
    readonly ConcurrentDictionary<string, long> _closed = new(StringComparer.Ordinal);

    public string Name { get; } = name;
    public long SessionsCurrent => Interlocked.Read(ref _current);
    public long SessionsTotal => Interlocked.Read(ref _total);
    /// <summary>Clients waiting for a server right now.</summary>
    public long Queued => Interlocked.Read(ref _queued);
    /// <summary>Bytes from clients.</summary>
    public long BytesIn => Interlocked.Read(ref _bytesIn);
    /// <summary>Bytes to clients.</summary>
    public long BytesOut => Interlocked.Read(ref _bytesOut);
    /// <summary>Connections closed by the proxy before or instead of a normal end, by bounded reason (<c>bad_startup</c>, <c>startup_timeout</c>, <c>queue_timeout</c>, <c>queue_full</c>, <c>connect_failed</c>, <c>shutdown_sessions</c>, <c>client_timeout</c>, …).</summary>
    public IReadOnlyDictionary<string, long> Closed => _closed;

    public void SessionStarted() { Interlocked.Increment(ref _current); Interlocked.Increment(ref _total); }
    public void SessionEnded() => Interlocked.Decrement(ref _current);
    public void QueueEntered() => Interlocked.Increment(ref _queued);
    public void QueueLeft() => Interlocked.Decrement(ref _queued);
    public void AddIn(long bytes) => Interlocked.Add(ref _bytesIn, bytes);
    public void AddOut(long bytes) => Interlocked.Add(ref _bytesOut, bytes);
    public void CountClose(string reason) => _closed.AddOrUpdate(reason, 1, (_, n) => n + 1);
}
