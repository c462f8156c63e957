using System.Net;
using Appliance.Balancer.Proxy.Pools;
using Appliance.Balancer.Proxy.Stats;
using Appliance.Proxy;

namespace Appliance.Proxy.Tests.Sessions;

/// <summary>A pool that always grants one fixed server at once: the sessions and data paths under test, without routing.</summary>
public sealed class FixedPool(string name, Backend backend) : IBackendPool, IDisposable
{
    int _leases;
    readonly CancellationTokenSource _shutdown = new();

    public string Name { get; } = name;
    public BackendStats Stats { get; } = new(name, backend.Name);
    /// <summary>Leases held now: every session must give its lease back.</summary>
    public int Leases => Volatile.Read(ref _leases);
    public IReadOnlyList<Backend> CancelTargets { get; } = [backend];

    /// <summary>The server leaves the pool: every lease's Shutdown fires (shutdown_sessions).</summary>
    public void TakeDown() => _shutdown.Cancel();

    public void Dispose() => _shutdown.Dispose();

    public ValueTask<PoolAcquire> AcquireAsync(IPAddress client, CancellationToken ct)
    {
        Interlocked.Increment(ref _leases);
        return ValueTask.FromResult(PoolAcquire.Granted(new PoolLease(backend, Stats, () => Interlocked.Decrement(ref _leases), _shutdown.Token)));
    }
}
