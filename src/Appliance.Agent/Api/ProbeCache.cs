using Appliance.Node;

namespace Appliance.Agent.Api;

/// <summary>
/// A fresh PostgreSQL probe for the health endpoints (a load balancer must not see a role up to
/// loop_wait old), shared by requests that arrive within <see cref="MaxAge"/> of each other.
/// </summary>
public sealed class ProbeCache(IPostgresController postgres, TimeProvider time) : IDisposable
{
    static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(250);
    readonly SemaphoreSlim _gate = new(1, 1);
    (PostgresState State, DateTimeOffset At)? _last;

    public async Task<PostgresState> GetAsync(CancellationToken ct)
    {
        if (_last is { } l && time.GetUtcNow() - l.At < MaxAge) return l.State;
        await _gate.WaitAsync(ct);
        try
        {
            if (_last is { } again && time.GetUtcNow() - again.At < MaxAge) return again.State;
            var state = await postgres.ProbeAsync(ct);
            _last = (state, time.GetUtcNow());
            return state;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
