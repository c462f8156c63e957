using System.Collections.Concurrent;
using Appliance.Balancer.Proxy.Checks;

namespace Appliance.Proxy.Tests.Routing;

/// <summary>Health checks whose verdicts the test sets; it records what routing asked of them.</summary>
public sealed class FakeHealthChecks : IHealthChecks
{
    readonly ConcurrentDictionary<string, CheckStatus> _statuses = new(StringComparer.Ordinal);
    volatile IReadOnlyCollection<CheckTarget> _tracked = [];
    volatile bool _fast;

    public IReadOnlyDictionary<string, CheckStatus> Statuses => _statuses;
    public IReadOnlyCollection<CheckTarget> Tracked => _tracked;
    public ConcurrentQueue<string> CheckedNow { get; } = new();

    public bool Fast { get => _fast; set => _fast = value; }

    public event Action? Changed;

    public void Track(IReadOnlyCollection<CheckTarget> targets) => _tracked = [.. targets];

    public void CheckNow(string backend) => CheckedNow.Enqueue(backend);

    /// <summary>Sets a verdict and raises Changed, as a check that changed a server's state does.</summary>
    public void Set(string backend, bool up, BackendRole role)
    {
        _statuses[backend] = new CheckStatus(backend, up, role, up, default, "", TimeSpan.Zero, null);
        Changed?.Invoke();
    }
}
