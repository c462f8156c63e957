using Appliance.Node;
using Microsoft.Extensions.Logging;

namespace Appliance.Agent.Ha;

/// <summary>
/// The lease clock, independent of the HA cycle: PostgreSQL stops taking writes before the leader lease can
/// end, whatever the cycle is waiting for (a slow probe, a stuck action, a demotion whose fast and immediate
/// shutdowns a frozen postmaster ignores). The lease runs at least ttl from the moment a renewal (or an
/// acquisition) was sent; <see cref="StopAllowance"/> before that, this stops PostgreSQL at once: SIGQUIT, then
/// SIGKILL, which no process can ignore. The watchdog stays the backstop for an agent that cannot run at all.
/// </summary>
public sealed class LeaseDeadline(IPostgresController postgres, TimeSpan ttl, TimeProvider time, ILogger log) : IDisposable
{
    /// <summary>How long before the lease can end PostgreSQL is stopped: half for SIGQUIT, half for SIGKILL.</summary>
    public static readonly TimeSpan StopAllowance = TimeSpan.FromSeconds(1);

    ITimer? _timer;
    int _armed;

    /// <summary>A renewal or acquisition sent at <paramref name="sentTimestamp"/> (this node's monotonic clock) holds the lease until at least ttl later.</summary>
    public void LeaseFrom(long sentTimestamp)
    {
        var due = ttl - StopAllowance - time.GetElapsedTime(sentTimestamp);
        Volatile.Write(ref _armed, 1);
        (_timer ??= time.CreateTimer(_ => Fire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan))
            .Change(due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    /// <summary>This node neither holds the key nor runs a PostgreSQL that may take writes: nothing to stop.</summary>
    public void Clear()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 0) return;
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    async void Fire()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 0) return;
        log.Warn($"the leader lease was not renewed and can end in {StopAllowance.TotalSeconds:0.#} s: stopping PostgreSQL now (immediate, then SIGKILL)");
        try
        {
            await postgres.StopAsync(immediate: true, escalateAfter: StopAllowance / 2, CancellationToken.None);
        }
        catch (Exception e)
        {
            log.ActionFailed("stopping PostgreSQL at the lease deadline", e.Message);
        }
    }

    public void Dispose() => _timer?.Dispose();
}
