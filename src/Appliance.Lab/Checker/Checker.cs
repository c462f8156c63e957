namespace Appliance.Lab.Checker;

/// <summary>
/// Holds a run's history against the final state of the database, Jepsen-style. Pure: no I/O, no clock, so
/// every rule is a table test over a hand-made history.
/// </summary>
public static class Checker
{
    /// <summary>How many offending pairs a result keeps; the count is always complete.</summary>
    public const int MaxRegressionSamples = 20;

    public static CheckResult Check(History history, FinalState final)
    {
        var ops = history.Operations;
        var inserts = ops.Where(o => o.Kind == OpKind.Insert && o.Id is not null).ToList();
        var present = final.InsertIds.Where(history.Contains).ToHashSet();
        var tried = inserts.Select(o => o.Id!.Value).ToHashSet();
        var (regressions, regressionCount) = TimelineRegressions(ops);
        return new CheckResult
        {
            Source = final.Source,
            Inserts = Count(ops, OpKind.Insert),
            Transfers = Count(ops, OpKind.Transfer),
            Lost = Ids(inserts.Where(o => o.Outcome == Outcome.Ok && !present.Contains(o.Id!.Value))),
            FailedButPresent = Ids(inserts.Where(o => o.Outcome == Outcome.Failed && present.Contains(o.Id!.Value))),
            Unexpected = [.. present.Where(id => !tried.Contains(id)).Order()],
            IndeterminatePresent = inserts.Count(o => o.Outcome == Outcome.Indeterminate && present.Contains(o.Id!.Value)),
            BankTotal = final.BankTotal,
            ExpectedBankTotal = history.ExpectedBankTotal,
            BankAccounts = final.Balances.Count,
            ExpectedBankAccounts = history.Accounts,
            SharedTimelines = SharedTimelines(ops),
            TimelineRegressions = regressions,
            TimelineRegressionCount = regressionCount,
            CommonErrors = [.. ops.Where(o => o.Error is not null).GroupBy(o => o.Error!).OrderByDescending(g => g.Count()).Take(5).Select(g => (g.Key, g.Count()))],
            Serving = history.ServingPeriods(),
            LongestWriteGap = history.LongestWriteGap(),
        };
    }

    static OutcomeCounts Count(IReadOnlyList<Operation> ops, OpKind kind)
    {
        var of = ops.Where(o => o.Kind == kind).ToList();
        return new(of.Count(o => o.Outcome == Outcome.Ok), of.Count(o => o.Outcome == Outcome.Failed), of.Count(o => o.Outcome == Outcome.Indeterminate));
    }

    static long[] Ids(IEnumerable<Operation> ops) => [.. ops.Select(o => o.Id!.Value).Distinct().Order()];

    /// <summary>A timeline belongs to the one node promoted onto it: acknowledged writes on it from two nodes mean two primaries.</summary>
    static IReadOnlyList<SharedTimeline> SharedTimelines(IReadOnlyList<Operation> ops)
        => [.. ops.Where(o => o.IsAcked && o.Server is not null)
            .GroupBy(o => o.Server!.Timeline)
            .Select(t => new SharedTimeline(t.Key, [.. t.GroupBy(o => o.Server!.Node).OrderBy(n => n.Min(o => o.End)).Select(n => n.MinBy(o => o.End)!)]))
            .Where(t => t.Examples.Count > 1)
            .OrderBy(t => t.Timeline)];

    /// <summary>
    /// Timelines only grow, so if write x was acknowledged before write y began (x.End &lt; y.Start), y's timeline
    /// must be at least x's. Concurrent writes (overlapping in time) are not ordered and never flagged. One sweep:
    /// writes by start time, against the highest timeline among writes that ended before each start.
    /// </summary>
    static (IReadOnlyList<TimelineRegression> Samples, int Count) TimelineRegressions(IReadOnlyList<Operation> ops)
    {
        var acked = ops.Where(o => o.IsAcked && o.Server is not null).ToList();
        var byEnd = acked.OrderBy(o => o.End).ToList();
        var samples = new List<TimelineRegression>();
        int count = 0, next = 0;
        Operation? highest = null;
        foreach (var y in acked.OrderBy(o => o.Start))
        {
            for (; next < byEnd.Count && byEnd[next].End < y.Start; next++)
                if (highest is null || byEnd[next].Server!.Timeline > highest.Server!.Timeline) highest = byEnd[next];
            if (highest is null || y.Server!.Timeline >= highest.Server!.Timeline) continue;
            count++;
            if (samples.Count < MaxRegressionSamples) samples.Add(new(highest, y));
        }
        return (samples, count);
    }
}
