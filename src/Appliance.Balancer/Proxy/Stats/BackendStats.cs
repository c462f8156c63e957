namespace Appliance.Balancer.Proxy.Stats;

/// <summary>A server's counters within one pool, updated lock-free by the sessions and read at scrape time.</summary>
public sealed class BackendStats(string pool, string name)
{
    long _current, _total, _bytesIn, _bytesOut, _connects, _connectFailures, _connectMicros;

    public string Pool { get; } = pool;
    public string Name { get; } = name;
    public long SessionsCurrent => Interlocked.Read(ref _current);
    public long SessionsTotal => Interlocked.Read(ref _total);
    /// <summary>Bytes sent to the server.</summary>
    public long BytesIn => Interlocked.Read(ref _bytesIn);
    /// <summary>Bytes received from the server.</summary>
    public long BytesOut => Interlocked.Read(ref _bytesOut);
    public long Connects => Interlocked.Read(ref _connects);
    public long ConnectFailures => Interlocked.Read(ref _connectFailures);
    /// <summary>Sum of successful connect times, seconds.</summary>
    public double ConnectSeconds => Interlocked.Read(ref _connectMicros) / 1e6;

    public void SessionStarted() { Interlocked.Increment(ref _current); Interlocked.Increment(ref _total); }
    public void SessionEnded() => Interlocked.Decrement(ref _current);
    public void AddIn(long bytes) => Interlocked.Add(ref _bytesIn, bytes);
    public void AddOut(long bytes) => Interlocked.Add(ref _bytesOut, bytes);
    public void Connected(TimeSpan took) { Interlocked.Increment(ref _connects); Interlocked.Add(ref _connectMicros, (long)(took.TotalMilliseconds * 1000)); }
    public void ConnectFailed() => Interlocked.Increment(ref _connectFailures);
}
