using System.Text;

namespace Appliance.Lab.Checker;

/// <summary>Two different nodes acknowledged writes on one timeline: two primaries at once. The examples are one acknowledged write from each node.</summary>
public sealed record SharedTimeline(int Timeline, IReadOnlyList<Operation> Examples)
{
    public override string ToString()
        => $"timeline {Timeline} served by {string.Join(" and ", Examples.Select(e => e.Server!.Node))}: {string.Join("; ", Examples)}";
}

/// <summary>A write acknowledged on a lower timeline after (in real time) one acknowledged on a higher timeline: an old primary still took writes.</summary>
public sealed record TimelineRegression(Operation Earlier, Operation Later)
{
    public override string ToString() => $"{Later} began after {Earlier} had ended";
}

/// <summary>How many operations of one kind ended each way.</summary>
public sealed record OutcomeCounts(int Ok, int Failed, int Indeterminate)
{
    public override string ToString() => $"{Ok} ok, {Failed} failed, {Indeterminate} indeterminate";
}

/// <summary>
/// The checker's findings for one final state. It reports; <see cref="Violations"/> judges, because whether
/// lost writes are a failure depends on the replication mode the scenario ran with.
/// </summary>
public sealed record CheckResult
{
    public required string Source { get; init; }
    public required OutcomeCounts Inserts { get; init; }
    public required OutcomeCounts Transfers { get; init; }

    /// <summary>Acknowledged inserts absent from the final state, ascending.</summary>
    public required IReadOnlyList<long> Lost { get; init; }

    /// <summary>Inserts recorded as <see cref="Outcome.Failed"/> that are present: the failure was a lie (or the classification is wrong).</summary>
    public required IReadOnlyList<long> FailedButPresent { get; init; }

    /// <summary>Ids of this run present although no client of the run tried them.</summary>
    public required IReadOnlyList<long> Unexpected { get; init; }

    /// <summary>Of the indeterminate inserts, how many turned out applied (informative only).</summary>
    public required int IndeterminatePresent { get; init; }

    public required long BankTotal { get; init; }
    public required long ExpectedBankTotal { get; init; }
    public required int BankAccounts { get; init; }
    public required int ExpectedBankAccounts { get; init; }
    public bool BankHolds => BankTotal == ExpectedBankTotal && BankAccounts == ExpectedBankAccounts;

    public required IReadOnlyList<SharedTimeline> SharedTimelines { get; init; }

    /// <summary>A sample of the offending pairs (the first ones in time), with the full count in <see cref="TimelineRegressionCount"/>.</summary>
    public required IReadOnlyList<TimelineRegression> TimelineRegressions { get; init; }
    public required int TimelineRegressionCount { get; init; }

    /// <summary>The most frequent reasons writes did not succeed, so a summary says what clients ran into.</summary>
    public required IReadOnlyList<(string Error, int Count)> CommonErrors { get; init; }

    public required IReadOnlyList<ServingPeriod> Serving { get; init; }
    public required WriteGap? LongestWriteGap { get; init; }

    public bool SplitBrain => SharedTimelines.Count > 0 || TimelineRegressionCount > 0;

    /// <summary>
    /// Each broken guarantee in one line; empty when the run is correct. With <paramref name="synchronous"/> no
    /// acknowledged write may be lost; without it, up to <paramref name="lostBudget"/> may be (null: any number,
    /// still shown in <see cref="Summary"/>).
    /// </summary>
    public IReadOnlyList<string> Violations(bool synchronous, int? lostBudget = null)
    {
        var v = new List<string>();
        var allowed = synchronous ? 0 : lostBudget ?? int.MaxValue;
        if (Lost.Count > allowed)
            v.Add($"{Lost.Count} acknowledged insert(s) lost ({(synchronous ? "synchronous: none allowed" : $"budget {allowed}")}), e.g. {Sample(Lost)}");
        if (FailedButPresent.Count > 0) v.Add($"{FailedButPresent.Count} insert(s) reported failed are present, e.g. {Sample(FailedButPresent)}");
        if (Unexpected.Count > 0) v.Add($"{Unexpected.Count} id(s) present that no client inserted, e.g. {Sample(Unexpected)}");
        if (!BankHolds) v.Add($"bank total {BankTotal} in {BankAccounts} account(s), expected {ExpectedBankTotal} in {ExpectedBankAccounts}");
        foreach (var s in SharedTimelines) v.Add($"split brain: {s}");
        foreach (var r in TimelineRegressions) v.Add($"split brain: timeline went back: {r}");
        if (TimelineRegressionCount > TimelineRegressions.Count)
            v.Add($"split brain: {TimelineRegressionCount - TimelineRegressions.Count} more timeline regression(s)");
        return v;
    }

    /// <summary>The run in a few lines, for a test's failure message or the demo.</summary>
    public string Summary
    {
        get
        {
            var s = new StringBuilder();
            s.AppendLine($"final state read from {Source}");
            s.AppendLine($"inserts:   {Inserts}; lost {Lost.Count}{(Lost.Count > 0 ? $" (e.g. {Sample(Lost)})" : "")}; " +
                $"indeterminate applied {IndeterminatePresent}; failed but present {FailedButPresent.Count}; unexpected {Unexpected.Count}");
            s.AppendLine($"transfers: {Transfers}; bank total {BankTotal} in {BankAccounts} account(s), expected {ExpectedBankTotal} " +
                $"({(BankHolds ? "holds" : "BROKEN")})");
            s.AppendLine($"served by: {(Serving.Count == 0 ? "nobody" : string.Join(", then ", Serving))}");
            s.AppendLine($"split brain: {(SplitBrain ? $"{SharedTimelines.Count} shared timeline(s), {TimelineRegressionCount} timeline regression(s)" : "none seen")}");
            s.Append($"longest write gap: {LongestWriteGap?.ToString() ?? "none"}");
            foreach (var (error, count) in CommonErrors) s.Append($"\n  {count,6} x {error}");
            return s.ToString();
        }
    }

    static string Sample(IReadOnlyList<long> ids) => string.Join(", ", ids.Take(10)) + (ids.Count > 10 ? ", ..." : "");
}
