namespace Appliance.Lab.Checker;

/// <summary>What a human (or a benchmark) wants to see of a run: throughput, write downtime, who served.</summary>
public sealed partial class History
{
    /// <summary>Acknowledged, failed and indeterminate writes per bucket (default one second), from zero to the last operation.</summary>
    public IReadOnlyList<RateBucket> Rates(TimeSpan? bucket = null)
    {
        var size = bucket ?? TimeSpan.FromSeconds(1);
        var ops = Operations;
        if (ops.Count == 0) return [];
        var last = ops.Max(o => o.End);
        var n = (int)(last.Ticks / size.Ticks) + 1;
        var counts = new int[n, 3];
        foreach (var o in ops) counts[(int)(o.End.Ticks / size.Ticks), (int)o.Outcome]++;
        return [.. Enumerable.Range(0, n).Select(i => new RateBucket(size * i,
            counts[i, (int)Outcome.Ok], counts[i, (int)Outcome.Failed], counts[i, (int)Outcome.Indeterminate]))];
    }

    /// <summary>The intervals between consecutive acknowledgements of at least <paramref name="atLeast"/>, longest first,
    /// plus the open one since the last acknowledgement when the workload has stopped.</summary>
    public IReadOnlyList<WriteGap> WriteGaps(TimeSpan atLeast)
    {
        var acks = Operations.Where(o => o.IsAcked).Select(o => o.End).Order().ToList();
        var gaps = new List<WriteGap>();
        for (int i = 1; i < acks.Count; i++)
            if (acks[i] - acks[i - 1] >= atLeast) gaps.Add(new(acks[i - 1], acks[i], false));
        if (StoppedAt is { } stopped && acks.Count > 0 && stopped - acks[^1] >= atLeast)
            gaps.Add(new(acks[^1], stopped, true));
        return [.. gaps.OrderByDescending(g => g.Duration)];
    }

    /// <summary>The longest client-observed write gap; null until two writes were acknowledged.</summary>
    public WriteGap? LongestWriteGap()
    {
        var gaps = WriteGaps(TimeSpan.Zero);
        return gaps.Count == 0 ? null : gaps[0];
    }

    /// <summary>Which node served the acknowledged writes over time, in acknowledgement order; a new period starts whenever the node or timeline changes.</summary>
    public IReadOnlyList<ServingPeriod> ServingPeriods()
    {
        var periods = new List<ServingPeriod>();
        foreach (var o in Operations.Where(o => o.IsAcked && o.Server is not null).OrderBy(o => o.End))
        {
            if (periods.Count > 0 && periods[^1].Server == o.Server)
                periods[^1] = periods[^1] with { To = o.End, Acked = periods[^1].Acked + 1 };
            else
                periods.Add(new(o.Server!, o.End, o.End, 1));
        }
        return periods;
    }

    /// <summary>"10.231.0.11:5432 (timeline 1) from 0.4 s until 12.3 s (1200 writes), then ..." for logs and summaries.</summary>
    public string DescribeServing()
    {
        var periods = ServingPeriods();
        return periods.Count == 0 ? "no write acknowledged" : string.Join(", then ", periods);
    }
}
