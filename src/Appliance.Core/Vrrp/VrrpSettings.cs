using Appliance.Net;

namespace Appliance.Vrrp;

/// <summary>
/// What the state machine needs to know about one instance (RFC 5798 section 6.1's parameters),
/// fixed for its lifetime; a reload builds new settings.
/// </summary>
public sealed record VrrpSettings
{
    /// <summary>Protocol version: decides the skew formula, the interval unit and whether the master's interval is learned.</summary>
    public VrrpVersion Version { get; init; } = VrrpVersion.V2;
    /// <summary>VRID.</summary>
    public byte VirtualRouterId { get; init; } = 1;
    /// <summary>The configured priority, before tracking: 1-254, or 255 for the address owner.</summary>
    public byte Priority { get; init; } = 100;
    /// <summary>Advertisement_Interval (whole seconds in v2, centiseconds in v3).</summary>
    public TimeSpan AdvertInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Preempt_Mode.</summary>
    public bool Preempt { get; init; } = true;
    /// <summary>keepalived's preempt_delay: how long after start-up, or after first hearing a lower-priority master, before preempting it.</summary>
    public TimeSpan PreemptDelay { get; init; } = TimeSpan.Zero;
    /// <summary>Our primary address: the advert source, compared with the sender's on a priority tie.</summary>
    public Ipv4Address PrimaryAddress { get; init; }
    /// <summary>v2: the simple text password expected in, and sent with, every advert; null for no authentication.</summary>
    public string? AuthPass { get; init; }
    /// <summary>Delay of the second gratuitous ARP burst after becoming master; zero for none.</summary>
    public TimeSpan GarpMasterDelay { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Period of gratuitous ARP refreshes while master; zero for none.</summary>
    public TimeSpan GarpMasterRefresh { get; init; } = TimeSpan.Zero;

    /// <summary>True for the address owner (priority 255): it goes to Master at once and never yields.</summary>
    public bool IsOwner => Priority == 255;

    /// <summary>
    /// Skew_Time for a given priority. v3 (RFC 5798 6.1): ((256 - Priority) * Master_Adver_Interval) / 256.
    /// v2 (RFC 3768 6.1): (256 - Priority) / 256 seconds, whatever the interval.
    /// </summary>
    public TimeSpan SkewTime(int priority, TimeSpan masterAdverInterval) =>
        Version == VrrpVersion.V3
            ? TimeSpan.FromTicks((256 - priority) * masterAdverInterval.Ticks / 256)
            : TimeSpan.FromTicks((256 - priority) * TimeSpan.TicksPerSecond / 256);

    /// <summary>Master_Down_Interval: (3 * Master_Adver_Interval) + Skew_Time (v2: 3 * Advertisement_Interval + Skew_Time).</summary>
    public TimeSpan MasterDownInterval(int priority, TimeSpan masterAdverInterval) =>
        3 * masterAdverInterval + SkewTime(priority, masterAdverInterval);

    /// <summary>The state machine's settings for a configured instance; <paramref name="primaryAddress"/> is found by the speaker when not configured.</summary>
    public static VrrpSettings From(Configuration.VrrpInstanceSection instance, Ipv4Address primaryAddress) => new()
    {
        Version = (VrrpVersion)instance.Version,
        VirtualRouterId = (byte)instance.VirtualRouterId,
        Priority = (byte)instance.Priority,
        AdvertInterval = instance.AdvertInt,
        Preempt = instance.Preempt,
        PreemptDelay = instance.PreemptDelay,
        PrimaryAddress = primaryAddress,
        AuthPass = instance.AuthPass,
        GarpMasterDelay = TimeSpan.FromSeconds(instance.GarpMasterDelay),
        GarpMasterRefresh = TimeSpan.FromSeconds(instance.GarpMasterRefresh),
    };
}
