using Appliance.Cluster;
using Appliance.Ha;
using Appliance.Node;

namespace Appliance.Agent.Ha;

/// <summary>
/// What the HA loop last saw and did, published as one immutable value swapped atomically each
/// cycle; the REST API and /metrics read it without locks.
/// </summary>
public sealed record AgentStatus
{
    public ClusterSnapshot Cluster { get; init; } = new();
    public PostgresState Postgres { get; init; } = new();
    public HaDecision? LastDecision { get; init; }
    public LeaseStatus Lease { get; init; } = LeaseStatus.NotLeader;
    /// <summary>When etcd last answered (for <c>dcs_last_seen</c>).</summary>
    public DateTimeOffset? StoreLastSeen { get; init; }
    public DateTimeOffset? LastCycleAt { get; init; }
    /// <summary>When the leader lease was last renewed by this node.</summary>
    public DateTimeOffset? LeaseRenewedAt { get; init; }
    /// <summary>The member state string published in etcd (running, starting, creating replica...).</summary>
    public string MemberState { get; init; } = "stopped";
    /// <summary>Synchronous mode is on and the <c>sync</c> key names this node as a synchronous standby.</summary>
    public bool SyncStandby { get; init; }

    /// <summary>This node holds the leader key, renewed this cycle (Patroni's <c>has_lock</c>).</summary>
    public bool HoldsLock => Lease == LeaseStatus.Renewed;
}

/// <summary>The holder of the latest <see cref="AgentStatus"/>.</summary>
public sealed class AgentState
{
    volatile AgentStatus _current = new();
    public AgentStatus Current => _current;
    public void Publish(AgentStatus status) => _current = status;
}
