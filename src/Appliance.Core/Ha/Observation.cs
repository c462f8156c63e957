using System.Collections.Immutable;
using Appliance.Cluster;
using Appliance.Node;

namespace Appliance.Ha;

/// <summary>Everything one HA cycle observed, gathered before deciding. Immutable.</summary>
public sealed record Observation
{
    /// <summary>The cluster as last read. When <see cref="StoreReachable"/> is false this is the last snapshot that could be read.</summary>
    public required ClusterSnapshot Cluster { get; init; }
    /// <summary>This cycle's read of etcd succeeded within retry_timeout.</summary>
    public bool StoreReachable { get; init; } = true;
    public required PostgresState Postgres { get; init; }
    /// <summary>The outcome of this cycle's lease renewal (tried only when the snapshot names this node as leader).</summary>
    public LeaseStatus Lease { get; init; } = LeaseStatus.NotLeader;
    /// <summary>Other members' reported state, fetched from their REST API only when the leader key is free.</summary>
    public ImmutableArray<PeerStatus> Peers { get; init; } = [];
    /// <summary>What the loop remembers between cycles.</summary>
    public AgentMemory Memory { get; init; } = AgentMemory.Empty;
}

/// <summary>The outcome of renewing the leader lease this cycle.</summary>
public enum LeaseStatus
{
    /// <summary>This node does not hold the leader key, so nothing was renewed.</summary>
    NotLeader,
    /// <summary>The lease was kept alive and the leader key still names this node on it.</summary>
    Renewed,
    /// <summary>etcd answered: the leader key is not this node's any more (stolen, deleted or expired).</summary>
    Lost,
    /// <summary>etcd did not answer within retry_timeout: nobody can tell whether the lease still holds.</summary>
    Failed,
    /// <summary>The leader key names this node but hangs on the lease of an earlier run of this agent.</summary>
    StaleOwnKey,
}

/// <summary>
/// A peer's answer to <c>GET /patroni</c> (or its absence). Its <c>Timeline</c> matters as much as its WAL
/// position: a peer far ahead in WAL on an older timeline has diverged and must not win a race.
/// </summary>
public sealed record PeerStatus(string Name, bool Reachable, bool? InRecovery, long? WalPosition, bool NoFailover, int FailoverPriority, long? Timeline = null)
{
    public static PeerStatus Unreachable(string name) => new(name, false, null, null, false, 0);
}

/// <summary>What the loop remembers between cycles (the decider stays a pure function).</summary>
public sealed record AgentMemory
{
    public static AgentMemory Empty { get; } = new();
    /// <summary>A long action (clone, start, promote, stop...) is running in the background.</summary>
    public HaActionKind? ActionInProgress { get; init; }
    /// <summary>Since when PostgreSQL has been down while this node held the leader key.</summary>
    public DateTimeOffset? PrimaryDownSince { get; init; }
    /// <summary>Since when this standby has had a leader to follow but has not been streaming from it.</summary>
    public DateTimeOffset? NotStreamingSince { get; init; }
    /// <summary>The upstream this node's standby configuration names (set when the agent starts or re-points PostgreSQL).</summary>
    public Upstream? ConfiguredUpstream { get; init; }
    /// <summary>This node stopped as a primary (demotion or switchover) and has not run as a standby since: the next standby start is a role change.</summary>
    public bool WasPrimary { get; init; }
    /// <summary>The last action this loop started and whether it failed (to avoid retrying a failing bootstrap forever in a tight loop).</summary>
    public string? LastFailure { get; init; }
}
