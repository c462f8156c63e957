using Appliance.Proxy;

namespace Appliance.Core.Tests.Proxy;

/// <summary>HAProxy's rise/fall counter, step by step.</summary>
public class HealthCounterTests
{
    static HealthCounter Run(HealthCounter c, string steps)
    {
        foreach (var s in steps) c = s == '+' ? c.Success() : c.Failure();
        return c;
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("+", false)]
    [InlineData("++", true)]          // rise 2
    [InlineData("++--", true)]        // two failures of fall 3: still up
    [InlineData("++---", false)]      // the third: down
    [InlineData("++--+", true)]       // a success while up restores the margin...
    [InlineData("++--+--", true)]     // ...so two more failures do not take it down
    [InlineData("+-+", false)]        // a failure half-way up starts the climb again
    [InlineData("+-++", true)]
    public void Rise_2_fall_3(string steps, bool up) => Assert.Equal(up, Run(HealthCounter.Start(2, 3), steps).IsUp);

    [Fact]
    public void Rise_1_fall_1_follows_every_check()
    {
        var c = HealthCounter.Start(1, 1);
        Assert.True(c.Success().IsUp);
        Assert.False(c.Success().Failure().IsUp);
    }

    [Fact]
    public void Stays_within_its_range()
    {
        var c = Run(HealthCounter.Start(2, 3), "++++++++");
        Assert.Equal(4, c.Health);
        Assert.Equal(0, Run(c, "----------").Health);
    }
}
