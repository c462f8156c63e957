namespace Appliance.Health;

/// <summary>
/// HAProxy's and keepalived's rise/fall rule as one saturating counter: a check that is down
/// becomes up after <c>rise</c> successes in a row, an up one down after <c>fall</c> failures in a
/// row; any result the other way resets the run. An immutable value: each result gives a new one.
/// </summary>
/// <param name="Up">The verdict now.</param>
/// <param name="Run">Consecutive results that disagree with <paramref name="Up"/>.</param>
public readonly record struct RiseFall(bool Up, int Run)
{
    /// <summary>keepalived starts a script as up only once it has passed (a failing check must not win an election); we start it down.</summary>
    public static RiseFall Initial(bool up) => new(up, 0);

    /// <summary>Applies one check result.</summary>
    public RiseFall Next(bool success, int rise, int fall)
    {
        if (success == Up) return this with { Run = 0 };
        var run = Run + 1;
        return run >= (success ? rise : fall) ? new(success, 0) : this with { Run = run };
    }
}
