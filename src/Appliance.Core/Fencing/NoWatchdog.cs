namespace Appliance.Fencing;

/// <summary>watchdog.mode = off: every call succeeds and does nothing.</summary>
public sealed class NoWatchdog : IWatchdog
{
    private static readonly WatchdogResult Off = new(true, "watchdog off");

    public WatchdogState State { get; } = WatchdogState.Initial(WatchdogMode.Off, null);

    public WatchdogResult Arm() => Off;
    public WatchdogResult Feed() => Off;
    public WatchdogResult Disarm() => Off;
}
