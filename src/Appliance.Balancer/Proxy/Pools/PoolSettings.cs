using System.Collections.Immutable;
using Appliance.Configuration;
using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Pools;

/// <summary>A server's share and limit in a pool, from its <c>[[proxy.backend]]</c> entry (weight 1, no limit when it has none).</summary>
/// <param name="Weight">0-256; 0 takes no new clients.</param>
/// <param name="Maxconn">Sessions at once to this server through the pool; 0 = no limit.</param>
public readonly record struct ServerLimits(int Weight, int Maxconn)
{
    public static readonly ServerLimits Default = new(1, 0);
}

/// <summary>How one listener's pool behaves: its balancing and limits, from <c>[proxy]</c> and its <c>[[proxy.listener]]</c>.</summary>
public sealed record PoolSettings
{
    public BalanceAlgorithm Balance { get; init; } = BalanceAlgorithm.RoundRobin;
    /// <summary>Sessions at once through the listener; 0 = no limit.</summary>
    public int Maxconn { get; init; } = 1000;
    /// <summary>Clients waiting at once; beyond it a new one is refused (<c>queue_full</c>).</summary>
    public int MaxQueue { get; init; } = 1000;
    /// <summary>How long a client waits for a server before it is refused (<c>queue_timeout</c>).</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>A lease's <see cref="PoolLease.Shutdown"/> fires when its server leaves the pool.</summary>
    public bool ShutdownSessions { get; init; } = true;
    /// <summary>Weights and limits by server name; servers not named get <see cref="ServerLimits.Default"/>.</summary>
    public ImmutableDictionary<string, ServerLimits> Servers { get; init; } = ImmutableDictionary<string, ServerLimits>.Empty;

    /// <summary>The settings of <paramref name="listener"/>'s pool.</summary>
    public static PoolSettings From(ProxySection proxy, ProxyListenerSection listener) => new()
    {
        Balance = ServerPicker.Parse(listener.Balance),
        Maxconn = listener.Maxconn,
        MaxQueue = proxy.MaxQueue,
        QueueTimeout = proxy.QueueTimeout,
        ShutdownSessions = proxy.ShutdownSessions,
        Servers = proxy.Backend.ToImmutableDictionary(b => b.Name, b => new ServerLimits(b.Weight, b.Maxconn), StringComparer.Ordinal),
    };

    public ServerLimits LimitsOf(string server) => Servers.TryGetValue(server, out var l) ? l : ServerLimits.Default;
}
