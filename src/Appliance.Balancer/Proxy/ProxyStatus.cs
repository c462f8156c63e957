using System.Collections.Immutable;
using Appliance.Balancer.Proxy.Checks;
using Appliance.Balancer.Proxy.Stats;

namespace Appliance.Balancer.Proxy;

/// <summary>The whole proxy at one moment, for <c>/metrics</c>, <c>/proxy</c> (JSON) and <c>/stats</c> (the page). Built on request; the counters inside are live.</summary>
/// <param name="Discovery">etcd or static.</param>
/// <param name="EtcdReadable">With etcd discovery: whether the last load or watch succeeded; null with static discovery.</param>
/// <param name="SeesPrimary">Some primary listener has a server to send writes to.</param>
/// <param name="Listeners">Every listener with its pool.</param>
/// <param name="Checks">Every known server's health check, by name.</param>
/// <param name="RouteChanges">Routing changes so far, by reason class.</param>
public sealed record ProxyStatus(
    string Discovery,
    bool? EtcdReadable,
    bool SeesPrimary,
    ImmutableArray<ListenerStatus> Listeners,
    IReadOnlyDictionary<string, CheckStatus> Checks,
    IReadOnlyDictionary<string, long> RouteChanges);

/// <summary>One listener and its pool: where it listens, how, and who takes its new clients now and why.</summary>
/// <param name="Name">The configured name.</param>
/// <param name="Role">primary or replica.</param>
/// <param name="Bind">The bound address (with the port the kernel chose for port 0).</param>
/// <param name="DataPath">The path its sessions take: <c>auto</c>, <c>sockmap</c>, <c>splice</c> or <c>copy</c>.</param>
/// <param name="DataPathWanted">The configured <c>data_path</c>.</param>
/// <param name="DataPathFallback">Why the configured path is not the one taken (null when it is).</param>
/// <param name="Accepting">Every accept loop runs.</param>
/// <param name="Stats">The listener's live counters.</param>
/// <param name="Routed">The servers that take its new clients now.</param>
/// <param name="RouteReason">Why those.</param>
/// <param name="Backends">Every server's counters.</param>
public sealed record ListenerStatus(
    string Name,
    string Role,
    string Bind,
    string DataPath,
    string DataPathWanted,
    string? DataPathFallback,
    bool Accepting,
    ListenerStats Stats,
    ImmutableArray<string> Routed,
    string RouteReason,
    ImmutableArray<BackendStats> Backends);
