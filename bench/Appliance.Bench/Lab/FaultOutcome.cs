using System.Globalization;

namespace Appliance.Bench.Lab;

/// <summary>
/// What one round of a fault scenario measured, as a client of the VIP saw it. <c>Gap</c>: the longest
/// time without an acknowledged write that ended after the fault and began before the repair;
/// <c>ReturnGap</c>: the longest one after the repair (the repaired node rejoining), null without a
/// repair; <c>Lost</c>: acknowledged inserts missing once the lab was healthy again;
/// <c>FailedOperations</c>: writes after the fault that were not acknowledged (connect or statement
/// errors, and those whose outcome is unknown).
/// </summary>
public sealed record FaultOutcome(TimeSpan Gap, TimeSpan? ReturnGap, int Lost, int FailedOperations, string Description)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"write gap {Gap.TotalSeconds:0.000} s{(ReturnGap is { } r ? string.Create(CultureInfo.InvariantCulture, $" (after the repair {r.TotalSeconds:0.000} s)") : "")}, " +
        $"lost {Lost}, {FailedOperations} failed ops; {Description}");
}
