using Appliance.Health;

namespace Appliance.Core.Tests.Health;

public sealed class RiseFallTests
{
    static bool Run(RiseFall start, string results, int rise, int fall, out RiseFall end)
    {
        end = start;
        foreach (var c in results) end = end.Next(c == '+', rise, fall);
        return end.Up;
    }

    [Theory]
    [InlineData(false, "+", 1, 1, true)]
    [InlineData(false, "+", 2, 1, false)]
    [InlineData(false, "++", 2, 1, true)]
    [InlineData(false, "+-+", 2, 1, false)]   // a failure resets the run
    [InlineData(true, "--", 1, 3, true)]
    [InlineData(true, "---", 1, 3, false)]
    [InlineData(true, "--+--", 1, 3, true)]
    [InlineData(true, "-", 1, 1, false)]
    public void Verdict_changes_after_a_run(bool startUp, string results, int rise, int fall, bool expected) =>
        Assert.Equal(expected, Run(RiseFall.Initial(startUp), results, rise, fall, out _));
}
