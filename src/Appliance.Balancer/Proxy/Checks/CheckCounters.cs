using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>
/// One backend's check counters since it was tracked, for <c>/metrics</c>: checks run, failures by the layer
/// they failed at, and up/down transitions. Written by its check loop, read at scrape time, lock-free.
/// </summary>
public sealed class CheckCounters
{
    readonly long[] _failures = new long[Enum.GetValues<CheckLayer>().Length];
    long _checks, _transitions;

    /// <summary>Checks run (passed or failed).</summary>
    public long Checks => Interlocked.Read(ref _checks);
    /// <summary>Times the verdict went up or down.</summary>
    public long Transitions => Interlocked.Read(ref _transitions);
    /// <summary>Checks that failed at <paramref name="layer"/>.</summary>
    public long Failures(CheckLayer layer) => Interlocked.Read(ref _failures[(int)layer]);
    /// <summary>Checks that failed, at any layer.</summary>
    public long FailuresTotal
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _failures.Length; i++) sum += Interlocked.Read(ref _failures[i]);
            return sum;
        }
    }

    internal void Count(CheckOutcome outcome)
    {
        Interlocked.Increment(ref _checks);
        if (!outcome.Ok) Interlocked.Increment(ref _failures[(int)outcome.Layer]);
    }

    internal void CountTransition() => Interlocked.Increment(ref _transitions);
}
