using Appliance.Lab.Checker;
using static Appliance.Lab.Tests.Checker.Cases;

namespace Appliance.Lab.Tests.Checker;

public class HistoryTests
{
    [Fact]
    public void The_longest_write_gap_runs_from_the_last_acknowledgement_before_an_outage_to_the_first_after()
    {
        var h = History(Insert(1, 0.0, 0.1), Insert(2, 0.2, 0.3), Insert(3, 0.4, 4.0, Outcome.Indeterminate),
            Insert(4, 1.0, 1.1, Outcome.Failed), Transfer(0.3, 0.5), Insert(5, 4.1, 4.2, by: B2), Insert(6, 4.3, 4.4, by: B2));

        var gap = h.LongestWriteGap();

        Assert.Equal(new WriteGap(S(0.5), S(4.2), Open: false), gap);
        Assert.Single(h.WriteGaps(S(1)));
    }

    [Fact]
    public void A_gap_still_open_when_the_workload_stopped_counts()
    {
        var h = History(Insert(1, 0.0, 0.1), Insert(2, 0.2, 0.3));
        h.MarkStopped(S(10));

        Assert.Equal(new WriteGap(S(0.3), S(10), Open: true), h.LongestWriteGap());
    }

    [Fact]
    public void Serving_periods_show_the_switch_from_one_node_and_timeline_to_the_next()
    {
        var h = History(Insert(1, 0.0, 0.1), Transfer(0.1, 0.2), Insert(2, 0.3, 9.0, Outcome.Indeterminate),
            Insert(3, 12.0, 12.3, by: B2), Transfer(12.0, 14.1, by: B2));

        Assert.Equal([new ServingPeriod(A1, S(0.1), S(0.2), 2), new ServingPeriod(B2, S(12.3), S(14.1), 2)], h.ServingPeriods());
        Assert.Equal("10.0.0.1:5432 (timeline 1) from 0.1 s until 0.2 s (2 writes), then 10.0.0.2:5432 (timeline 2) from 12.3 s until 14.1 s (2 writes)",
            h.DescribeServing());
    }

    [Fact]
    public void Rates_count_each_write_in_the_second_it_ended()
    {
        var h = History(Insert(1, 0.0, 0.1), Insert(2, 0.5, 0.9), Insert(3, 0.9, 1.2, Outcome.Failed), Insert(4, 1.0, 2.5, Outcome.Indeterminate));

        Assert.Equal([new RateBucket(S(0), 2, 0, 0), new RateBucket(S(1), 0, 1, 0), new RateBucket(S(2), 0, 0, 1)], h.Rates());
    }
}
