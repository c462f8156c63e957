namespace Appliance.Fencing;

/// <summary>The outcome of a watchdog call, for the HA loop.</summary>
/// <param name="MayLead">False only when arming was refused (mode required): do not take the leader key.</param>
/// <param name="Reason">One line for the HA decision's reason.</param>
/// <param name="LogOnce">A problem to log now: set the first time it appears, null while it repeats.</param>
public sealed record WatchdogResult(bool MayLead, string Reason, string? LogOnce = null);

/// <summary>
/// The hardware watchdog, as the HA loop uses it (one caller, the loop's thread). The rule of use:
/// <see cref="Arm"/> before taking the leader key and lead only when it says so; <see cref="Feed"/>
/// on every loop while primary, right after the key was renewed; <see cref="Disarm"/> on demotion
/// and on a clean stop. A hung agent stops feeding and the device resets the node before the lease
/// (ttl) expires, which is what makes "at most one primary" hold when the agent itself hangs.
/// </summary>
public interface IWatchdog
{
    /// <summary>Opens the device and sets timeout = ttl - safety_margin. Idempotent while armed (feeds).</summary>
    WatchdogResult Arm();

    /// <summary>Keepalive. No-op when not armed. A failure is reported, never blocks leadership.</summary>
    WatchdogResult Feed();

    /// <summary>Magic close: stops the timer. No-op when not armed.</summary>
    WatchdogResult Disarm();

    /// <summary>The current state, for /patroni and /metrics; safe to read from any thread.</summary>
    WatchdogState State { get; }
}
