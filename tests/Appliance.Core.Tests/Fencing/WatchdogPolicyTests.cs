using Appliance.Fencing;

namespace Appliance.Core.Tests.Fencing;

/// <summary>The watchdog rules, one row each: mode × what the device did × phase.</summary>
public class WatchdogPolicyTests
{
    // ttl 30, safety_margin 5 → timeout 25; loop_wait 10.
    static WatchdogSettings S(WatchdogMode mode) => new(mode, TimeoutSeconds: 25, LoopWaitSeconds: 10);

    public static TheoryData<string, WatchdogMode, string, bool, bool, bool> ArmRows => new()
    {
        // row, mode, device, may lead, keep armed, problem reported
        { "off ignores a missing device", WatchdogMode.Off, "missing", true, false, false },
        { "off ignores a working device", WatchdogMode.Off, "works", true, false, false },
        { "off ignores a slow device", WatchdogMode.Off, "too-long", true, false, false },
        { "automatic leads without a missing device", WatchdogMode.Automatic, "missing", true, false, true },
        { "automatic arms a working device", WatchdogMode.Automatic, "works", true, true, false },
        { "automatic arms a device that took a shorter timeout", WatchdogMode.Automatic, "shorter", true, true, false },
        { "automatic leads without a too-long timeout", WatchdogMode.Automatic, "too-long", true, false, true },
        { "automatic leads without a timeout below loop_wait", WatchdogMode.Automatic, "below-loop", true, false, true },
        { "required refuses without a device", WatchdogMode.Required, "missing", false, false, true },
        { "required arms a working device", WatchdogMode.Required, "works", true, true, false },
        { "required refuses a too-long timeout", WatchdogMode.Required, "too-long", false, false, true },
        { "required refuses a timeout below loop_wait", WatchdogMode.Required, "below-loop", false, false, true },
        { "a device without magic close is armed, with a warning", WatchdogMode.Required, "no-magic", true, true, true },
    };

    static ArmAttempt Device(string kind) => kind switch
    {
        "missing" => ArmAttempt.Failed("watchdog /dev/watchdog: open failed: No such file or directory (errno 2)"),
        "works" => ArmAttempt.Running(25),
        "shorter" => ArmAttempt.Running(20),
        "too-long" => ArmAttempt.Running(60),
        "below-loop" => ArmAttempt.Running(5),
        "no-magic" => ArmAttempt.Running(25, canDisarm: false),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [MemberData(nameof(ArmRows))]
    public void Judge_arm(string row, WatchdogMode mode, string device, bool mayLead, bool keepArmed, bool problem)
    {
        var v = WatchdogPolicy.Judge(S(mode), Device(device));
        Assert.True(mayLead == v.MayLead, $"{row}: MayLead {v.MayLead} ({v.Reason})");
        Assert.True(keepArmed == v.KeepArmed, $"{row}: KeepArmed {v.KeepArmed} ({v.Reason})");
        Assert.True(problem == (v.Problem is not null), $"{row}: Problem '{v.Problem}'");
        Assert.False(string.IsNullOrWhiteSpace(v.Reason));
    }

    [Fact]
    public void Refusal_names_mode_and_timeouts()
    {
        var v = WatchdogPolicy.Judge(S(WatchdogMode.Required), ArmAttempt.Running(60));
        Assert.Contains("required", v.Reason);
        Assert.Contains("60 s", v.Reason);
        Assert.Contains("25 s", v.Reason);
    }

    [Theory]
    [InlineData(WatchdogMode.Off, LeaderPhase.AboutToLead, false, WatchdogStep.None)]
    [InlineData(WatchdogMode.Off, LeaderPhase.Leading, false, WatchdogStep.None)]
    [InlineData(WatchdogMode.Off, LeaderPhase.StoppingLeading, false, WatchdogStep.None)]
    [InlineData(WatchdogMode.Automatic, LeaderPhase.AboutToLead, false, WatchdogStep.Arm)]
    [InlineData(WatchdogMode.Automatic, LeaderPhase.AboutToLead, true, WatchdogStep.Feed)]
    [InlineData(WatchdogMode.Automatic, LeaderPhase.Leading, true, WatchdogStep.Feed)]
    [InlineData(WatchdogMode.Automatic, LeaderPhase.Leading, false, WatchdogStep.None)]
    [InlineData(WatchdogMode.Automatic, LeaderPhase.StoppingLeading, true, WatchdogStep.Disarm)]
    [InlineData(WatchdogMode.Automatic, LeaderPhase.StoppingLeading, false, WatchdogStep.None)]
    [InlineData(WatchdogMode.Required, LeaderPhase.AboutToLead, false, WatchdogStep.Arm)]
    [InlineData(WatchdogMode.Required, LeaderPhase.Leading, true, WatchdogStep.Feed)]
    [InlineData(WatchdogMode.Required, LeaderPhase.StoppingLeading, true, WatchdogStep.Disarm)]
    public void Step_for_phase(WatchdogMode mode, LeaderPhase phase, bool armed, WatchdogStep expected)
        => Assert.Equal(expected, WatchdogPolicy.Next(mode, phase, armed));

    [Theory]
    [InlineData("off", 30, 5, WatchdogMode.Off, 25)]
    [InlineData("automatic", 30, 5, WatchdogMode.Automatic, 25)]
    [InlineData("required", 60, 15, WatchdogMode.Required, 45)]
    public void Settings_from_configuration(string mode, int ttl, int margin, WatchdogMode expectedMode, int expectedTimeout)
    {
        var c = new Appliance.Configuration.ApplianceConfig
        {
            Agent = new() { Ttl = ttl, LoopWait = 10 },
            Watchdog = new() { Mode = mode, SafetyMargin = margin },
        };
        var s = WatchdogSettings.From(c);
        Assert.Equal(expectedMode, s.Mode);
        Assert.Equal(expectedTimeout, s.TimeoutSeconds);
        Assert.Equal(10, s.LoopWaitSeconds);
    }

    [Fact]
    public void NoWatchdog_always_lets_lead()
    {
        var w = new NoWatchdog();
        Assert.True(w.Arm().MayLead);
        Assert.True(w.Feed().MayLead);
        Assert.True(w.Disarm().MayLead);
        Assert.Equal(WatchdogMode.Off, w.State.Mode);
        Assert.False(w.State.Armed);
    }
}
