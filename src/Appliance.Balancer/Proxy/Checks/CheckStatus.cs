using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>
/// A backend's health as its checker last saw it: the verdict after rise/fall, the role the check could
/// tell, and the last check's own result (the layer it failed at, its detail, its latency).
/// <see cref="Role"/> is what the last passing check saw; <see cref="LastChange"/> is when <see cref="Up"/> or
/// <see cref="Role"/> last changed (null until they first do).
/// </summary>
public sealed record CheckStatus(
    string Backend,
    bool Up,
    BackendRole Role,
    bool LastOk,
    CheckLayer LastLayer,
    string LastDetail,
    TimeSpan LastLatency,
    DateTimeOffset? LastChange)
{
    /// <summary>When the last check finished; null before the first.</summary>
    public DateTimeOffset? LastCheck { get; init; }

    /// <summary>This backend's check counters (checks, failures by layer, transitions), live.</summary>
    public CheckCounters Counters { get; init; } = new();

    /// <summary>What the routing table needs.</summary>
    public BackendCheck ToBackendCheck() => new(Up, Role);
}
