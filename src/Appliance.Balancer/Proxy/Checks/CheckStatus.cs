using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>
/// A backend's health as its checker last saw it: the verdict after rise/fall, the role the check could
/// tell, and the last check's own result (the layer it failed at, its detail, its latency).
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
    /// <summary>What the routing table needs.</summary>
    public BackendCheck ToBackendCheck() => new(Up, Role);
}
