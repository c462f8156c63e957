using Appliance.Node;

namespace Appliance.Ha;

/// <summary>The one thing a cycle does. Names are what the agent does, as an operator would say it.</summary>
public enum HaActionKind
{
    /// <summary>Nothing to change (the reason says why).</summary>
    None,
    /// <summary>The leader key is ours and renewed: publish status, keep slots. No change of role.</summary>
    KeepLeading,
    /// <summary>Try to win the <c>initialize</c> race; the winner runs initdb, starts as primary and takes the leader key.</summary>
    Bootstrap,
    /// <summary>No <c>initialize</c> key but a data directory: claim the cluster with its system identifier.</summary>
    AdoptExistingData,
    /// <summary>Copy the data directory from a running member with pg_basebackup.</summary>
    Clone,
    /// <summary>Bring a diverged data directory back in line: pg_rewind from the leader, else set it aside and clone again.</summary>
    Rejoin,
    /// <summary>Start PostgreSQL as a standby (of the upstream, or of nobody yet).</summary>
    StartAsReplica,
    /// <summary>Start PostgreSQL as the primary (the leader key is ours: a crash restart in place).</summary>
    StartAsPrimary,
    /// <summary>Point a running standby at another upstream.</summary>
    Follow,
    /// <summary>Take the leader key (create-if-absent) and promote this standby.</summary>
    AcquireAndPromote,
    /// <summary>The leader key is ours but this standby is not promoted yet.</summary>
    Promote,
    /// <summary>Take the free leader key while already running as a primary.</summary>
    AcquireAsPrimary,
    /// <summary>Re-take our own leader key left on the lease of an earlier run of this agent (compare on its revision).</summary>
    TakeOverOwnKey,
    /// <summary>Stop accepting writes: stop PostgreSQL (fast, escalated to immediate), to restart as a standby.</summary>
    Demote,
    /// <summary>Give up the leader key (compare-and-delete), so a replica takes over.</summary>
    ReleaseLeader,
    /// <summary>A switchover away from this primary: checkpoint, stop cleanly (standbys receive all WAL), release the key.</summary>
    StepDown,
    /// <summary>Remove a <c>failover</c> request that is done or cannot be carried out.</summary>
    ClearFailover,
    /// <summary>An operator's restart of PostgreSQL in its current role (<c>POST /restart</c>).</summary>
    Restart,
    /// <summary>An operator's re-initialization of a replica: its data removed and cloned again (<c>POST /reinitialize</c>).</summary>
    Reinitialize,
}

/// <summary>What the decider chose and why, in words an operator reads in the log.</summary>
public sealed record HaDecision(HaActionKind Action, string Reason, Upstream? Upstream = null, string? CloneFrom = null, string? Candidate = null)
{
    public override string ToString() => Upstream is null ? $"{Action}: {Reason}" : $"{Action} ({Upstream.Name}): {Reason}";
}
