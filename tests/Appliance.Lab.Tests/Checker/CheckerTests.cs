using Appliance.Lab.Checker;
using static Appliance.Lab.Tests.Checker.Cases;
using CheckerRules = Appliance.Lab.Checker.Checker;

namespace Appliance.Lab.Tests.Checker;

public class CheckerTests
{
    /// <summary>One row per rule: a history, what the database holds afterwards, and the violation expected (null: none).</summary>
    static readonly Dictionary<string, (Lab.Checker.History History, FinalState Final, string? Violation)> Table = new()
    {
        ["no loss, one failover"] = (
            History(Insert(1, 0.0, 0.1), Transfer(0.0, 0.2), Insert(2, 0.2, 0.3), Insert(3, 0.4, 5.0, Outcome.Failed),
                Insert(4, 5.1, 5.2, by: B2), Transfer(5.1, 5.3, by: B2)),
            Final([1, 2, 4], 990, 1010, 1000, 1000, 1000), null),
        ["lost acknowledged insert"] = (
            History(Insert(1, 0.0, 0.1), Insert(2, 0.2, 0.3)),
            Final([1]), "1 acknowledged insert(s) lost"),
        ["indeterminate insert absent is not lost"] = (
            History(Insert(1, 0.0, 0.1), Insert(2, 0.2, 3.0, Outcome.Indeterminate)),
            Final([1]), null),
        ["indeterminate insert present is fine"] = (
            History(Insert(1, 0.0, 0.1), Insert(2, 0.2, 3.0, Outcome.Indeterminate)),
            Final([1, 2]), null),
        ["failed insert present"] = (
            History(Insert(1, 0.0, 0.1), Insert(2, 0.2, 0.3, Outcome.Failed)),
            Final([1, 2]), "reported failed are present"),
        ["id nobody inserted"] = (
            History(Insert(1, 0.0, 0.1)),
            Final([1, 99]), "that no client inserted"),
        ["bank total broken"] = (
            History(Transfer(0.0, 0.1)),
            Final([], 990, 1000, 1000, 1000, 1000), "bank total 4990 in 5 account(s), expected 5000"),
        ["bank account missing"] = (
            History(Transfer(0.0, 0.1)),
            Final([], 2000, 1000, 1000, 1000), "bank total 5000 in 4 account(s)"),
        ["two nodes on one timeline"] = (
            History(Insert(1, 0.0, 0.1, by: A1), Insert(2, 0.5, 0.6, by: B1)),
            Final([1, 2]), "split brain: timeline 1 served by 10.0.0.1:5432 and 10.0.0.2:5432"),
        ["timeline back in real-time order"] = (
            History(Insert(1, 0.0, 1.0, by: B2), Transfer(1.1, 1.2, by: A1)),
            Final([1]), "split brain: timeline went back"),
        ["concurrent writes on different timelines"] = (
            History(Insert(1, 0.0, 0.1, by: A1), Insert(2, 1.0, 2.0, by: B2), Transfer(1.5, 1.6, by: A1), Insert(3, 2.1, 2.2, by: B2)),
            Final([1, 2, 3]), null),
        ["unacknowledged writes have no server to judge"] = (
            History(Insert(1, 0.0, 0.1, by: B2), Insert(2, 0.2, 0.3, Outcome.Failed), Transfer(0.4, 0.5, Outcome.Indeterminate)),
            Final([1]), null),
    };

    [Theory]
    [InlineData("no loss, one failover")]
    [InlineData("lost acknowledged insert")]
    [InlineData("indeterminate insert absent is not lost")]
    [InlineData("indeterminate insert present is fine")]
    [InlineData("failed insert present")]
    [InlineData("id nobody inserted")]
    [InlineData("bank total broken")]
    [InlineData("bank account missing")]
    [InlineData("two nodes on one timeline")]
    [InlineData("timeline back in real-time order")]
    [InlineData("concurrent writes on different timelines")]
    [InlineData("unacknowledged writes have no server to judge")]
    public void Finds_exactly_the_expected_violation(string name)
    {
        var (history, final, expected) = Table[name];
        var result = CheckerRules.Check(history, final);
        var violations = result.Violations(synchronous: true);
        if (expected is null) Assert.True(violations.Count == 0, string.Join("\n", violations) + "\n" + result.Summary);
        else Assert.True(violations.Count == 1 && violations[0].Contains(expected, StringComparison.Ordinal),
            $"expected one violation containing '{expected}', got:\n{string.Join("\n", violations)}");
    }

    [Fact]
    public void Every_row_of_the_table_runs() => Assert.Equal(Table.Count, typeof(CheckerTests).GetMethod(nameof(Finds_exactly_the_expected_violation))!
        .GetCustomAttributes(typeof(InlineDataAttribute), false).Length);

    [Fact]
    public void Lost_writes_are_reported_with_their_ids_and_judged_by_replication_mode()
    {
        var result = CheckerRules.Check(History(Insert(1, 0, 0.1), Insert(2, 0.2, 0.3), Insert(3, 0.4, 0.5)), Final([1]));

        Assert.Equal([Base + 2, Base + 3], result.Lost);
        Assert.NotEmpty(result.Violations(synchronous: true));
        Assert.Empty(result.Violations(synchronous: false));
        Assert.Empty(result.Violations(synchronous: false, lostBudget: 2));
        Assert.NotEmpty(result.Violations(synchronous: false, lostBudget: 1));
        Assert.Contains("lost 2", result.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Ids_of_other_runs_are_ignored()
    {
        var final = new FinalState("test", new HashSet<long> { Base + 1, Base - 1, Base + Lab.Checker.History.IdRange }, Final([]).Balances);

        var result = CheckerRules.Check(History(Insert(1, 0, 0.1)), final);

        Assert.Empty(result.Violations(synchronous: true));
    }

    [Fact]
    public void Timeline_regression_names_both_writes_and_counts_all()
    {
        var result = CheckerRules.Check(History(Insert(1, 0.0, 1.0, by: B2), Insert(2, 1.1, 1.2, by: A1), Insert(3, 1.3, 1.4, by: A1)), Final([1, 2, 3]));

        Assert.Equal(2, result.TimelineRegressionCount);
        var first = result.TimelineRegressions[0];
        Assert.Equal(Base + 1, first.Earlier.Id);
        Assert.Equal(Base + 2, first.Later.Id);
        Assert.True(result.SplitBrain);
    }

    [Fact]
    public void Counts_outcomes_per_kind()
    {
        var result = CheckerRules.Check(History(Insert(1, 0, 0.1), Insert(2, 0, 0.1, Outcome.Failed), Insert(3, 0, 0.1, Outcome.Indeterminate),
            Transfer(0, 0.1), Transfer(0, 0.1), Transfer(0, 0.1, Outcome.Failed)), Final([1]));

        Assert.Equal(new OutcomeCounts(1, 1, 1), result.Inserts);
        Assert.Equal(new OutcomeCounts(2, 1, 0), result.Transfers);
    }
}
