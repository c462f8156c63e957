using Appliance.Fencing;

using Appliance.Simulator.World;

namespace Appliance.Simulator.Models;

/// <summary>
/// The host's watchdog device: armed, it resets the host unless fed within its timeout (ttl − safety_margin).
/// It belongs to the host, not to the agent: a frozen or killed agent stops feeding and the host is reset.
/// Without a device (the lab's namespaces) it never fires and never refuses leadership.
/// </summary>
public sealed class SimWatchdog(SimWorld world, string host, TimeSpan? timeout) : IWatchdog
{
    TimeSpan? _deadline;
    DateTimeOffset? _lastFeed;

    public bool HasDevice => timeout is not null;
    public bool Armed => _deadline is not null;

    public WatchdogResult Arm()
    {
        if (timeout is { } t) _deadline = world.Loop.Time.Elapsed + t;
        _lastFeed = world.Loop.Time.GetUtcNow();
        return new(true, HasDevice ? "watchdog armed" : "no watchdog device");
    }

    public WatchdogResult Feed()
    {
        if (_deadline is not null && timeout is { } t)
        {
            _deadline = world.Loop.Time.Elapsed + t;
            _lastFeed = world.Loop.Time.GetUtcNow();
        }
        return new(true, "fed");
    }

    public WatchdogResult Disarm()
    {
        _deadline = null;
        return new(true, "disarmed");
    }

    /// <summary>Checked by the world: true once when the timer ran out (the host is then reset, the device with it).</summary>
    public bool Expired()
    {
        if (_deadline is not { } d || world.Loop.Time.Elapsed < d) return false;
        _deadline = null;
        return true;
    }

    public WatchdogState State => new(HasDevice ? WatchdogMode.Required : WatchdogMode.Off, Armed, HasDevice ? "/dev/watchdog" : null,
        HasDevice ? "sim" : null, timeout is { } t ? (int)t.TotalSeconds : null, _lastFeed, null);

    public override string ToString() => $"watchdog of {host}";
}
