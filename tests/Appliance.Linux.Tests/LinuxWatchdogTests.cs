using Appliance.Fencing;
using Appliance.Linux.Watchdog;
using Appliance.TestKit;

namespace Appliance.Linux.Tests;

/// <summary>The IWatchdog the HA loop calls, over the emulated device: policy and device together.</summary>
public sealed class LinuxWatchdogTests(EmulatorBinary binary) : IClassFixture<EmulatorBinary>
{
    sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    static readonly DateTimeOffset T0 = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    static WatchdogSettings S(WatchdogMode mode) => new(mode, TimeoutSeconds: 25, LoopWaitSeconds: 10);

    [Fact]
    public async Task Arm_feed_disarm()
    {
        using var emu = await WatchdogEmulator.StartAsync(binary);
        var time = new ManualTime(T0);
        using var wd = new LinuxWatchdog(S(WatchdogMode.Required), WatchdogLocation.Found(emu.DevicePath), time);

        var armed = wd.Arm();
        Assert.True(armed.MayLead, armed.Reason);
        Assert.Null(armed.LogOnce);
        Assert.Equal(new WatchdogState(WatchdogMode.Required, true, emu.DevicePath, "appliance-emu", 25, T0, null), wd.State);

        time.Now = T0.AddSeconds(10);
        Assert.True(wd.Feed().MayLead);
        time.Now = T0.AddSeconds(20);
        Assert.True(wd.Feed().MayLead);
        Assert.Equal(T0.AddSeconds(20), wd.State.LastFeed);
        Assert.Equal(2, emu.Log.Count(l => l == "keepalive"));

        Assert.True(wd.Disarm().MayLead);
        Assert.False(wd.State.Armed);
        await emu.WaitForLogAsync("release magic");
        Assert.Equal("not armed", wd.Feed().Reason[^9..]);
    }

    [Fact]
    public async Task Required_refuses_a_device_whose_timeout_is_too_long_and_disarms_it()
    {
        using var emu = await WatchdogEmulator.StartAsync(binary, timeoutFloor: 60);
        using var wd = new LinuxWatchdog(S(WatchdogMode.Required), WatchdogLocation.Found(emu.DevicePath), new ManualTime(T0));

        var r = wd.Arm();
        Assert.False(r.MayLead);
        Assert.Contains("60 s", r.Reason);
        Assert.NotNull(r.LogOnce);
        Assert.False(wd.State.Armed);
        Assert.Equal(60, wd.State.TimeoutSeconds);
        Assert.NotNull(wd.State.LastError);
        await emu.WaitForLogAsync("release magic");

        // The same problem on the next attempt is not logged again.
        var again = wd.Arm();
        Assert.False(again.MayLead);
        Assert.Null(again.LogOnce);
    }

    [Fact]
    public async Task Automatic_leads_without_a_busy_device_and_says_so_once()
    {
        using var emu = await WatchdogEmulator.StartAsync(binary);
        using var holder = WatchdogDevice.Open(emu.DevicePath); // e.g. a watchdog daemon
        using var wd = new LinuxWatchdog(S(WatchdogMode.Automatic), WatchdogLocation.Found(emu.DevicePath), new ManualTime(T0));

        var r = wd.Arm();
        Assert.True(r.MayLead);
        Assert.Contains("another process holds it open", r.LogOnce);
        Assert.False(wd.State.Armed);
        Assert.Contains("EBUSY", emu.Log[^1]);
        Assert.True(wd.Feed().MayLead); // no device: nothing to feed
        Assert.Null(wd.Arm().LogOnce);
        holder.Close(disarm: true);
    }

    [Fact]
    public void Required_refuses_when_no_device_was_found()
    {
        using var wd = new LinuxWatchdog(S(WatchdogMode.Required), WatchdogLocation.NotFound("no watchdog named 'x'"), new ManualTime(T0));
        Assert.Equal("no watchdog named 'x'", wd.State.LastError);
        var r = wd.Arm();
        Assert.False(r.MayLead);
        Assert.Contains("no watchdog named 'x'", r.Reason);
    }

    [Fact]
    public void Create_gives_NoWatchdog_for_mode_off()
    {
        var config = new Appliance.Configuration.ApplianceConfig { Watchdog = new() { Mode = "off" } };
        Assert.IsType<NoWatchdog>(LinuxWatchdog.Create(config, TimeProvider.System));
    }
}
