namespace Appliance.Vrrp;

/// <summary>The states of RFC 5798 section 6.4, plus keepalived's Fault.</summary>
public enum VrrpState
{
    /// <summary>Not running (before Startup, after Shutdown).</summary>
    Initialize,
    /// <summary>Watching the master; takes over when the Master_Down_Timer fires.</summary>
    Backup,
    /// <summary>Holding the addresses and advertising.</summary>
    Master,
    /// <summary>A tracked condition of weight 0 failed: neither holds the addresses nor takes part in the election.</summary>
    Fault,
}

/// <summary>
/// The whole mutable state of one instance, as an immutable value: the state machine returns a new
/// one for every event. Timers are deadlines on the caller's monotonic clock (null when stopped);
/// the speaker sleeps until <see cref="NextDeadline"/> or the next packet, whichever comes first.
/// </summary>
public sealed record VrrpInstanceState
{
    /// <summary>The current state.</summary>
    public VrrpState State { get; init; } = VrrpState.Initialize;
    /// <summary>Master_Adver_Interval: the interval of the master's adverts (learned in v3), our own at first.</summary>
    public TimeSpan MasterAdverInterval { get; init; }
    /// <summary>Adver_Timer (Master only).</summary>
    public TimeSpan? AdverTimer { get; init; }
    /// <summary>Master_Down_Timer (Backup only).</summary>
    public TimeSpan? MasterDownTimer { get; init; }
    /// <summary>When the second gratuitous ARP burst is due (Master only).</summary>
    public TimeSpan? GarpTimer { get; init; }
    /// <summary>Until when a lower-priority master is still followed instead of preempted (preempt_delay).</summary>
    public TimeSpan? PreemptHoldUntil { get; init; }
    /// <summary>The tracked conditions' verdict.</summary>
    public VrrpTracking Tracking { get; init; } = VrrpTracking.Healthy;
    /// <summary>The last master we heard (Backup), for status output.</summary>
    public Net.Ipv4Address? MasterAddress { get; init; }

    /// <summary>The earliest running timer, or null when none runs.</summary>
    public TimeSpan? NextDeadline => new[] { AdverTimer, MasterDownTimer, GarpTimer }.Where(t => t.HasValue).Min();
}
