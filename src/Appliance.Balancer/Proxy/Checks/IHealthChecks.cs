using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>A server to check: where PostgreSQL is, and where its REST API is (for the http check; null when unknown).</summary>
public sealed record CheckTarget(Backend Backend, string? ApiUrl);

/// <summary>
/// The health checks of every server the proxy knows, as routing sees them. Discovery says which servers
/// exist (<see cref="Track"/>); each gets its own check loop at <c>inter</c>, or <c>fast_inter</c> while
/// some pool waits for a server. Routing reads the verdicts and asks for an immediate check when the
/// cluster says something changed (a new leader), so it does not wait a whole <c>inter</c>.
/// </summary>
public interface IHealthChecks
{
    /// <summary>Checks exactly these servers from now on: new ones start down (and are checked at once), gone ones stop. Same name with a new address restarts its checks.</summary>
    void Track(IReadOnlyCollection<CheckTarget> targets);

    /// <summary>Every tracked server's status now.</summary>
    IReadOnlyDictionary<string, CheckStatus> Statuses { get; }

    /// <summary>Runs the next check of <paramref name="backend"/> now instead of at the end of its interval.</summary>
    void CheckNow(string backend);

    /// <summary>While true, every server is checked at <c>fast_inter</c>.</summary>
    bool Fast { get; set; }

    /// <summary>Raised (from any thread) after a check changed some server's <see cref="CheckStatus.Up"/> or <see cref="CheckStatus.Role"/>.</summary>
    event Action? Changed;
}
