using Appliance.Configuration;

namespace Appliance.Fencing;

/// <summary><c>watchdog.mode</c>.</summary>
public enum WatchdogMode
{
    /// <summary>Never touch the device.</summary>
    Off,
    /// <summary>Use the device when it works; lead without it otherwise (and say so).</summary>
    Automatic,
    /// <summary>Never lead without a working device.</summary>
    Required,
}

/// <summary>Where this node stands with the leader key, as the HA loop sees it this cycle.</summary>
public enum LeaderPhase
{
    /// <summary>About to take the leader key (promotion, or the first lock of a bootstrap): arm first.</summary>
    AboutToLead,
    /// <summary>Holds the key and renewed it this cycle.</summary>
    Leading,
    /// <summary>Demotes, or stops cleanly: the fence is no longer needed.</summary>
    StoppingLeading,
}

/// <summary>What to do with the device this cycle.</summary>
public enum WatchdogStep
{
    None,
    /// <summary>Open, set the timeout, check it.</summary>
    Arm,
    /// <summary>Keepalive.</summary>
    Feed,
    /// <summary>Magic close: write 'V', close.</summary>
    Disarm,
}

/// <summary>The numbers the policy needs.</summary>
/// <param name="Mode">watchdog.mode.</param>
/// <param name="TimeoutSeconds">ttl - safety_margin: the device must reset a hung primary before its lease can expire.</param>
/// <param name="LoopWaitSeconds">agent.loop_wait: a device that fires sooner than one loop resets a healthy primary.</param>
public sealed record WatchdogSettings(WatchdogMode Mode, int TimeoutSeconds, int LoopWaitSeconds)
{
    public static WatchdogSettings From(ApplianceConfig c)
        => new(ParseMode(c.Watchdog.Mode), c.Agent.Ttl - c.Watchdog.SafetyMargin, c.Agent.LoopWait);

    /// <summary>The configuration's spelling (validated there: off, automatic, required).</summary>
    public static WatchdogMode ParseMode(string mode) => mode switch
    {
        "required" => WatchdogMode.Required,
        "automatic" => WatchdogMode.Automatic,
        _ => WatchdogMode.Off,
    };
}

/// <summary>
/// What an attempt to arm the device found: it could not be opened or configured
/// (<paramref name="Error"/>), or it runs with <paramref name="ActualTimeoutSeconds"/>.
/// </summary>
public sealed record ArmAttempt(int? ActualTimeoutSeconds, string? Error, bool CanDisarm = true)
{
    public static ArmAttempt Failed(string error) => new(null, error);
    public static ArmAttempt Running(int actualTimeoutSeconds, bool canDisarm = true) => new(actualTimeoutSeconds, null, canDisarm);
}

/// <summary>The judgement of an <see cref="ArmAttempt"/>.</summary>
/// <param name="MayLead">Whether the leader key may be taken.</param>
/// <param name="KeepArmed">Whether to keep the device open and fed; false means disarm it now (if open).</param>
/// <param name="Problem">Something an operator must hear about (log once, show in state); null when all is well.</param>
/// <param name="Reason">One line for the log and the HA decision's reason.</param>
public sealed record ArmVerdict(bool MayLead, bool KeepArmed, string Reason, string? Problem);

/// <summary>
/// The watchdog rules, pure: which step the HA loop's phase calls for, and whether an armed device is
/// good enough to lead with. Patroni's <c>watchdog/base.py</c> semantics, with its decisions pulled
/// apart from its device calls.
/// </summary>
public static class WatchdogPolicy
{
    /// <summary>The step for this cycle. Arming happens before the key is taken, never after.</summary>
    public static WatchdogStep Next(WatchdogMode mode, LeaderPhase phase, bool armed)
    {
        if (mode == WatchdogMode.Off) return WatchdogStep.None;
        return phase switch
        {
            // Already armed (a retried promotion): a feed keeps the countdown fresh.
            LeaderPhase.AboutToLead => armed ? WatchdogStep.Feed : WatchdogStep.Arm,
            // Unarmed while leading only in automatic mode after a failed arm: no retry every
            // loop (Patroni neither); the next promotion tries again.
            LeaderPhase.Leading => armed ? WatchdogStep.Feed : WatchdogStep.None,
            LeaderPhase.StoppingLeading => armed ? WatchdogStep.Disarm : WatchdogStep.None,
            _ => WatchdogStep.None,
        };
    }

    /// <summary>The timeout to ask the device for.</summary>
    public static int WantedTimeout(WatchdogSettings s) => s.TimeoutSeconds;

    /// <summary>Judges what arming found.</summary>
    public static ArmVerdict Judge(WatchdogSettings s, ArmAttempt attempt)
    {
        if (s.Mode == WatchdogMode.Off) return new(true, false, "watchdog off", null);

        string? problem = attempt switch
        {
            { Error: { } e } => $"watchdog not armed: {e}",
            { ActualTimeoutSeconds: int t } when t > s.TimeoutSeconds =>
                $"watchdog timeout {t} s exceeds ttl - safety_margin = {s.TimeoutSeconds} s: a hung primary would be reset only after its lease expired",
            // Patroni's loop_wait check: fed once per loop, it would reset a healthy primary.
            { ActualTimeoutSeconds: int t } when t < s.LoopWaitSeconds =>
                $"watchdog timeout {t} s is shorter than loop_wait {s.LoopWaitSeconds} s: it would reset a healthy primary",
            { ActualTimeoutSeconds: null } => "watchdog not armed: no timeout read back",
            _ => null,
        };

        if (problem is null)
        {
            string note = attempt.CanDisarm ? "" : "; it cannot be disarmed (no magic close): the node resets after demotion unless fed";
            return new(true, true, $"watchdog armed, timeout {attempt.ActualTimeoutSeconds} s{note}", attempt.CanDisarm ? null : note[2..]);
        }

        if (s.Mode == WatchdogMode.Required)
            return new(false, false, $"refusing leadership: watchdog.mode is required and {problem}", problem);

        // Automatic: lead without it. A too-long timeout is disarmed rather than kept: a reset that
        // comes after another node may already have promoted is no fence (and a device that fires
        // before the next feed would reset a healthy primary).
        return new(true, false, $"leading without a watchdog (mode automatic): {problem}", problem);
    }
}
