namespace Appliance.Fencing;

/// <summary>
/// The watchdog as /patroni and /metrics show it. Immutable: the HA loop swaps in a new one, the
/// REST API reads whichever is current.
/// </summary>
/// <param name="Mode">watchdog.mode.</param>
/// <param name="Armed">The device is open and fed: a hang resets this node.</param>
/// <param name="DevicePath">The device path chosen (after the identity lookup); null when none was found.</param>
/// <param name="Identity">The device's own name (WDIOC_GETSUPPORT), once opened.</param>
/// <param name="TimeoutSeconds">The timeout the device took, once armed.</param>
/// <param name="LastFeed">When the last keepalive succeeded.</param>
/// <param name="LastError">The last problem (arming refused or failed, a failed feed or disarm); cleared by a success.</param>
public sealed record WatchdogState(
    WatchdogMode Mode,
    bool Armed,
    string? DevicePath,
    string? Identity,
    int? TimeoutSeconds,
    DateTimeOffset? LastFeed,
    string? LastError)
{
    public static WatchdogState Initial(WatchdogMode mode, string? devicePath)
        => new(mode, false, devicePath, null, null, null, null);
}
