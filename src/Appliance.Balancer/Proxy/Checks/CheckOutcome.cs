using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>
/// One check's result: passed or not, the role it saw (<see cref="BackendRole.Unknown"/> when the check cannot
/// tell), the layer it failed at (<see cref="CheckLayer.None"/> when it passed), a detail for the log and the
/// status page, and how long it took.
/// </summary>
public readonly record struct CheckOutcome(bool Ok, BackendRole Role, CheckLayer Layer, string Detail, TimeSpan Latency)
{
    public static CheckOutcome Pass(BackendRole role, string detail) => new(true, role, CheckLayer.None, detail, TimeSpan.Zero);
    public static CheckOutcome Fail(CheckLayer layer, string detail) => new(false, BackendRole.Unknown, layer, detail, TimeSpan.Zero);
}

/// <summary>
/// One kind of health check (<c>[proxy.check] type</c>). <see cref="RunAsync"/> never throws for a failed
/// check, only when its token is cancelled: every failure is an outcome with its layer, and the
/// check's own <c>timeout</c> is a <see cref="CheckLayer.Timeout"/> outcome.
/// </summary>
public interface IBackendCheck
{
    /// <summary>The <c>type</c> name, for the log.</summary>
    string Type { get; }

    Task<CheckOutcome> RunAsync(CheckTarget target, CancellationToken ct);
}
