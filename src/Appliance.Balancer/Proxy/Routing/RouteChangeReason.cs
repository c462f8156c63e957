namespace Appliance.Balancer.Proxy.Routing;

/// <summary>What made the routing change: the bounded label of the route-change counter.</summary>
public static class RouteChangeReason
{
    /// <summary>The first routes, from configuration or the first snapshot.</summary>
    public const string Startup = "startup";
    /// <summary>The leader key moved (or was freed, or taken).</summary>
    public const string LeaderChanged = "leader_changed";
    /// <summary>A member key (role, state, addresses, tags, position), <c>config</c> or <c>sync</c> changed.</summary>
    public const string MemberChanged = "member_changed";
    /// <summary>A health check changed a server's verdict or role.</summary>
    public const string CheckChanged = "check_changed";
    /// <summary>etcd could not be read for too long: the checks decide alone.</summary>
    public const string EtcdLost = "etcd_lost";
    /// <summary>etcd answers again.</summary>
    public const string EtcdBack = "etcd_back";

    /// <summary>Every label, for metrics that show zeros before the first change.</summary>
    public static readonly IReadOnlyList<string> All = [Startup, LeaderChanged, MemberChanged, CheckChanged, EtcdLost, EtcdBack];
}
