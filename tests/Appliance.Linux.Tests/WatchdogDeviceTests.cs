using Appliance.Linux.Watchdog;
using Appliance.TestKit;
using Tmds.Linux;

namespace Appliance.Linux.Tests;

/// <summary>The ioctl path against the FUSE emulator, which answers what a real watchdog answers.</summary>
public sealed class WatchdogDeviceTests(EmulatorBinary binary) : IClassFixture<EmulatorBinary>
{
    [Fact]
    public async Task Arms_sets_timeout_and_reads_it_back()
    {
        using var emu = await WatchdogEmulator.StartAsync(binary);
        using var dev = WatchdogDevice.Open(emu.DevicePath);
        var support = dev.GetSupport();
        Assert.Equal("appliance-emu", support.Identity);
        Assert.True(support.CanSetTimeout);
        Assert.True(support.HasMagicClose);
        Assert.Equal(7u, support.FirmwareVersion);
        Assert.Equal(25, dev.SetTimeout(25));
        Assert.Equal(25, dev.GetTimeout());
        dev.Close(disarm: true);
        await emu.WaitForLogAsync("release magic");
        Assert.Equal(["open", "getsupport", "settimeout 25 25", "gettimeout 25", "write 1 V", "release magic"], emu.Log);
    }

    [Fact]
    public async Task Keepalives_are_counted()
    {
        using var emu = await WatchdogEmulator.StartAsync(binary);
        using var dev = WatchdogDevice.Open(emu.DevicePath);
        for (int i = 0; i < 3; i++) dev.Keepalive();
        Assert.Equal(3, emu.Log.Count(l => l == "keepalive"));
        dev.Close(disarm: true);
    }

    [Fact]
    public async Task Device_may_take_a_longer_timeout_than_asked()
    {
        using var emu = await WatchdogEmulator.StartAsync(binary, timeoutFloor: 60);
        using var dev = WatchdogDevice.Open(emu.DevicePath);
        Assert.Equal(60, dev.SetTimeout(25));
        Assert.Equal(60, dev.GetTimeout());
        dev.Close(disarm: true);
    }

    [Fact]
    public async Task Second_open_is_busy_with_a_clear_message()
    {
        using var emu = await WatchdogEmulator.StartAsync(binary);
        using var first = WatchdogDevice.Open(emu.DevicePath);
        var e = Assert.Throws<WatchdogException>(() => WatchdogDevice.Open(emu.DevicePath));
        Assert.Equal(LibC.EBUSY, e.Errno);
        Assert.Equal(emu.DevicePath, e.Device);
        Assert.Contains(emu.DevicePath, e.Message);
        Assert.Contains("another process holds it open", e.Message);
        first.Close(disarm: true);
    }

    [Fact]
    public async Task Close_without_magic_leaves_the_timer_running()
    {
        using var emu = await WatchdogEmulator.StartAsync(binary);
        var dev = WatchdogDevice.Open(emu.DevicePath);
        dev.Dispose(); // no decision taken: keep fencing
        await emu.WaitForLogAsync("release nomagic");
        Assert.DoesNotContain("release magic", emu.Log);
    }

    [Fact]
    public async Task Calls_after_close_are_refused()
    {
        using var emu = await WatchdogEmulator.StartAsync(binary);
        var dev = WatchdogDevice.Open(emu.DevicePath);
        dev.Close(disarm: true);
        dev.Close(disarm: true); // idempotent
        Assert.Throws<ObjectDisposedException>(dev.Keepalive);
    }

    [Fact]
    public void Missing_device_names_path_and_errno()
    {
        var e = Assert.Throws<WatchdogException>(() => WatchdogDevice.Open("/nonexistent/watchdog9"));
        Assert.Equal(LibC.ENOENT, e.Errno);
        Assert.Contains("/nonexistent/watchdog9", e.Message);
        Assert.Contains("errno 2", e.Message);
    }
}
