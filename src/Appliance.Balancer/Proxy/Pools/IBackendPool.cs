using System.Net;
using Appliance.Balancer.Proxy.Stats;
using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Pools;

/// <summary>
/// The servers behind one listener, as the sessions see them: a session asks for a server, holds it
/// while it runs, and gives it back. The pool decides who (routing and balancing), how long a client
/// waits when there is nobody (<c>queue_timeout</c>), and when a session must end because its server
/// left the pool (<c>shutdown_sessions</c>).
/// </summary>
public interface IBackendPool
{
    /// <summary>The listener's name: log and metrics label.</summary>
    string Name { get; }

    /// <summary>
    /// A server for a new client from <paramref name="client"/>: at once when the pool has one with a free
    /// slot, else after waiting in the queue up to <c>queue_timeout</c>. Never throws for "nobody": the
    /// result says why (queue full, timed out) so the session can log and count it.
    /// </summary>
    ValueTask<PoolAcquire> AcquireAsync(IPAddress client, CancellationToken ct);

    /// <summary>The servers a CancelRequest is forwarded to: every server of the pool (the key names a backend process on one of them; PostgreSQL ignores keys it does not know).</summary>
    IReadOnlyList<Backend> CancelTargets { get; }
}

/// <summary>The answer to <see cref="IBackendPool.AcquireAsync"/>: a lease, or the reason there is none.</summary>
/// <param name="Lease">The server, held until disposed; null when refused.</param>
/// <param name="Refusal">Why not, for the log ("no primary within queue_timeout (30 s): the leader key is free").</param>
/// <param name="Reason">A bounded metrics label: <c>queue_full</c>, <c>queue_timeout</c>, <c>stopping</c>.</param>
public readonly record struct PoolAcquire(PoolLease? Lease, string Refusal, string Reason)
{
    public static PoolAcquire Granted(PoolLease lease) => new(lease, "", "");
    public static PoolAcquire Refused(string reason, string refusal) => new(null, refusal, reason);
}

/// <summary>
/// One session's hold on a server. <see cref="Shutdown"/> fires when the server leaves the pool while the
/// session runs (marked down, no longer the leader) and <c>shutdown_sessions</c> is on: the session then
/// closes both sides at once. Dispose gives the slot back (exactly once).
/// </summary>
public sealed class PoolLease(Backend backend, BackendStats stats, Action release, CancellationToken shutdown) : IDisposable
{
    int _released;

    public Backend Backend { get; } = backend;
    /// <summary>The server's counters (sessions, bytes, connect time) the session adds to.</summary>
    public BackendStats Stats { get; } = stats;
    public CancellationToken Shutdown { get; } = shutdown;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) release();
    }
}
