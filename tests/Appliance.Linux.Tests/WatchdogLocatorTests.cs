using Appliance.Linux.Watchdog;
using Appliance.TestKit;

namespace Appliance.Linux.Tests;

/// <summary>The device chosen from a fake /sys/class/watchdog tree.</summary>
public sealed class WatchdogLocatorTests : IDisposable
{
    private readonly TempDir _dir = new("appl-wdsys");
    private string Sys => _dir.Sub("class-watchdog");

    public WatchdogLocatorTests()
    {
        // Probe order: the BMC's watchdog came first on this boot.
        Add("watchdog0", "iTCO_wdt");
        Add("watchdog1", "i6300ESB timer");
        Add("watchdog10", "i6300ESB timer");
    }

    private void Add(string name, string identity)
    {
        Directory.CreateDirectory(Path.Combine(Sys, name));
        File.WriteAllText(Path.Combine(Sys, name, "identity"), identity + "\n"); // sysfs adds a newline
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Without_identity_the_configured_path()
        => Assert.Equal(WatchdogLocation.Found("/dev/watchdog"), WatchdogLocator.Locate("/dev/watchdog", null, Sys));

    [Fact]
    public void By_identity_the_lowest_numbered_match()
        => Assert.Equal(WatchdogLocation.Found("/dev/watchdog1"), WatchdogLocator.Locate("/dev/watchdog", "i6300ESB timer", Sys));

    [Fact]
    public void Dev_root_is_a_parameter()
        => Assert.Equal("/tmp/dev/watchdog0", WatchdogLocator.Locate("/dev/watchdog", "iTCO_wdt", Sys, "/tmp/dev").DevicePath);

    [Fact]
    public void Unknown_identity_lists_what_is_there()
    {
        var l = WatchdogLocator.Locate("/dev/watchdog", "softdog", Sys);
        Assert.Null(l.DevicePath);
        Assert.Contains("'softdog'", l.Error);
        Assert.Contains("watchdog0 'iTCO_wdt'", l.Error);
    }

    [Fact]
    public void Missing_sysfs_class_says_no_driver()
    {
        var l = WatchdogLocator.Locate("/dev/watchdog", "softdog", _dir.Sub("nothing"));
        Assert.Null(l.DevicePath);
        Assert.Contains("no watchdog driver loaded", l.Error);
    }
}
