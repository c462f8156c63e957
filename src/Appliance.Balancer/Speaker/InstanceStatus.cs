using Appliance.Net;
using Appliance.Vrrp;

namespace Appliance.Balancer.Speaker;

/// <summary>What one instance looks like now, for <c>/status</c> and <c>/metrics</c>: an immutable snapshot the speaker swaps after every event.</summary>
public sealed record InstanceStatus
{
    public required string Name { get; init; }
    public required string Interface { get; init; }
    public required byte VirtualRouterId { get; init; }
    public required int Version { get; init; }
    public required VrrpState State { get; init; }
    /// <summary>The configured priority.</summary>
    public required byte Priority { get; init; }
    /// <summary>The priority in force (moved by tracking).</summary>
    public required byte EffectivePriority { get; init; }
    /// <summary>Our primary address (advert source).</summary>
    public required Ipv4Address SourceAddress { get; init; }
    /// <summary>The master we follow, or ourselves as master; null when unknown.</summary>
    public Ipv4Address? MasterAddress { get; init; }
    public required IReadOnlyList<VirtualAddress> VirtualAddresses { get; init; }
    /// <summary>True while a tracked weight-0 condition is down.</summary>
    public bool Fault { get; init; }
    public DateTimeOffset? LastTransition { get; init; }
    public string? LastReason { get; init; }
}
