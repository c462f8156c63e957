using System.Diagnostics.CodeAnalysis;
using Appliance.Cluster;
using Appliance.Node;

namespace Appliance.Ha;

/// <summary>
/// The HA decision (Patroni's <c>ha.py</c> cascade) as a pure function: one observation in, one
/// action and its reason out. No I/O, no clock: <c>now</c> is given. Safety rules come first: a
/// primary that is not sure it holds the lease stops accepting writes before anything else.
/// </summary>
public static class Decider
{
    public static HaDecision Decide(Observation o, HaSettings s, DateTimeOffset now)
    {
        var d = DecideUnpaused(o, s, now);
        return o.StoreReachable && o.Cluster.IsPaused ? Paused(d, o, s) : d;
    }

    /// <summary>
    /// Maintenance mode (<c>pause</c> in the dynamic configuration): the agent keeps its lease and reports,
    /// but takes no automatic action on PostgreSQL — no restart, no failover, no re-clone. Demotion rules
    /// stay (a primary without the lease must still stop taking writes), and so does a failover the
    /// operator asked for by name.
    /// </summary>
    static HaDecision Paused(HaDecision d, Observation o, HaSettings s)
    {
        var manual = FailoverRequest.From(o.Cluster) is { } r && (r.Member == s.MemberName || d.Action == HaActionKind.StepDown);
        return d.Action switch
        {
            HaActionKind.StartAsPrimary or HaActionKind.StartAsReplica or HaActionKind.ReleaseLeader or HaActionKind.Rejoin
                => new(HaActionKind.None, $"paused (maintenance mode): not acting on '{d.Reason}'"),
            HaActionKind.AcquireAndPromote or HaActionKind.StepDown when !manual
                => new(HaActionKind.None, $"paused (maintenance mode): no automatic failover ('{d.Reason}')"),
            _ => d,
        };
    }

    static HaDecision DecideUnpaused(Observation o, HaSettings s, DateTimeOffset now)
    {
        var pg = o.Postgres;
        if (pg.IsPrimary)
            return DecideAsPrimary(o, s, now);
        if (pg.MayAcceptWrites && (!o.StoreReachable || o.Lease is LeaseStatus.Failed or LeaseStatus.Lost
            || (o.Cluster.Leader is { } holder && holder.Name != s.MemberName)))
        {
            // It does not answer the probe, but without standby.signal it may still commit for the clients
            // it has: the same rule as for a primary that cannot prove it holds the lease.
            return new(HaActionKind.Demote, "PostgreSQL runs without standby.signal and does not answer, and this node cannot prove it holds the leader lease: stopping it");
        }

        if (o.Memory.ActionInProgress is { } busy)
            return new(HaActionKind.None, $"{Describe(busy)} in progress");

        if (!o.StoreReachable)
            return new(HaActionKind.None, "cannot reach etcd; not a primary, so keeping the current state");

        var c = o.Cluster;
        if (c.Initialize is null)
        {
            return pg.DataDirInitialized
                ? new(HaActionKind.AdoptExistingData, "the cluster is not initialized but this node has a data directory: claiming the cluster with it")
                : new(HaActionKind.Bootstrap, "the cluster is not initialized: racing to bootstrap it");
        }
        if (c.Initialize.Length == 0)
            return new(HaActionKind.None, "waiting for another node to finish bootstrapping the cluster");

        if (pg.SystemId is { } sysid && sysid != c.Initialize)
            return new(HaActionKind.None, $"the data directory belongs to another cluster (system identifier {sysid}, the cluster's is {c.Initialize}): not starting PostgreSQL");

        if (!pg.DataDirInitialized)
            return DecideClone(c);

        if (!pg.PostmasterRunning)
            return DecideStart(o, s, now);

        if (!pg.Accepting)
        {
            if (c.Leader?.Name == s.MemberName && PrimaryStartTimedOut(o, s, now))
                return new(HaActionKind.ReleaseLeader, $"PostgreSQL did not accept connections within primary_start_timeout ({s.PrimaryStartTimeout.TotalSeconds:0}s): releasing the leader key so a replica takes over");
            return new(HaActionKind.None, "PostgreSQL is starting up");
        }

        return DecideAsReplica(o, s, now);
    }

    static HaDecision DecideAsPrimary(Observation o, HaSettings s, DateTimeOffset now)
    {
        // Invariant 1: a primary that cannot prove it holds the lease stops taking writes now, while
        // the lease (renewed at most loop_wait + retry_timeout ago) has not expired yet.
        if (!o.StoreReachable)
            return new(HaActionKind.Demote, "cannot reach etcd within retry_timeout: demoting before the leader lease can expire");
        switch (o.Lease)
        {
            case LeaseStatus.Failed:
                return new(HaActionKind.Demote, "could not renew the leader lease within retry_timeout: demoting before it can expire");
            case LeaseStatus.Lost:
                return new(HaActionKind.Demote, $"the leader key is no longer ours{HolderSuffix(o.Cluster)}: demoting");
            case LeaseStatus.StaleOwnKey:
                return new(HaActionKind.TakeOverOwnKey, "the leader key names this node on the lease of an earlier run of this agent: taking it over");
            case LeaseStatus.Renewed:
                return o.Memory.ActionInProgress is { } busy
                    ? new(HaActionKind.None, $"renewed the leader lease; {Describe(busy)} in progress")
                    : FailoverRequest.From(o.Cluster) is { } request
                        ? DecideRequestAsLeader(o, s, request, now)
                        : new(HaActionKind.KeepLeading, "renewed the leader lease: no action, this node is the leader");
        }

        if (o.Cluster.Leader is { } other)
            return new(HaActionKind.Demote, $"{other.Name} holds the leader key: demoting this primary to follow it");
        if (o.Memory.ActionInProgress is { } inProgress)
            return new(HaActionKind.None, $"{Describe(inProgress)} in progress");
        // Somebody led since this primary last held the key (its agent stalled, or restarted): its data may lack
        // what that leader acknowledged, so it must not lead again. It demotes and rejoins (rewind or clone).
        if (ClusterTimeline(o.Cluster) is long clusterTl && o.Postgres.Timeline is long myTl && myTl < clusterTl)
            return new(HaActionKind.Demote, $"the leader key is free but this primary runs on timeline {myTl} and the cluster has reached timeline {clusterTl}: another node led since, demoting to rejoin it");
        var c = o.Cluster;
        if (c.SyncSettings.Enabled && !c.Sync.IsEmpty && !c.Sync.Matches(s.MemberName))
            return new(HaActionKind.Demote, $"the leader key is free but synchronous mode is on and the sync key names {c.Sync.Leader} ({SyncList(c.Sync)}), not this primary: it may lack acknowledged transactions, demoting");
        if (o.Peers.FirstOrDefault(p => p.Reachable && p.InRecovery == false) is { } rival)
            return new(HaActionKind.None, $"the leader key is free but {rival.Name} also runs as a primary: not taking the key");
        return new(HaActionKind.AcquireAsPrimary, "the leader key is free and this node runs as the primary: taking the key");
    }

    /// <summary>The leader's side of a switchover or manual failover (Patroni's <c>process_manual_failover_from_leader</c>).</summary>
    static HaDecision DecideRequestAsLeader(Observation o, HaSettings s, FailoverRequest r, DateTimeOffset now)
    {
        if (r.ScheduledAt is { } at && at > now)
            return new(HaActionKind.KeepLeading, $"renewed the leader lease; a switchover is scheduled at {at:u}");
        if (r.Leader is { } named && named != s.MemberName)
            return new(HaActionKind.ClearFailover, $"a switchover from {named} was requested but {s.MemberName} is the leader: dropping the request");
        if (r.Member == s.MemberName)
            return new(HaActionKind.ClearFailover, $"the requested candidate {s.MemberName} is already the leader: dropping the request");
        // In synchronous mode a switchover goes only to a node that holds every acknowledged commit.
        var sync = o.Cluster.SyncSettings.Enabled ? o.Cluster.Sync : null;
        if (sync is not null && r.Leader is not null && r.Member is { } wanted && !sync.IsSyncStandby(wanted))
            return new(HaActionKind.ClearFailover, $"a switchover to {wanted} was requested but it is not a synchronous standby: dropping the request");
        var healthy = o.Peers.Where(p => p.Reachable && p.InRecovery == true && !p.NoFailover && (r.Member is null || p.Name == r.Member)
            && (sync is null || r.Member is not null || sync.IsSyncStandby(p.Name))).ToList();
        if (healthy.Count == 0)
            return new(HaActionKind.ClearFailover, r.Member is not null
                ? $"a switchover to {r.Member} was requested but it is not a healthy running replica: dropping the request"
                : sync is not null
                    ? "a switchover was requested but no synchronous standby is healthy enough to take over: dropping the request"
                    : "a switchover was requested but no replica is healthy enough to take over: dropping the request");
        var to = r.Member ?? healthy.OrderByDescending(p => p.WalPosition ?? 0).ThenByDescending(p => p.FailoverPriority).First().Name;
        return new(HaActionKind.StepDown, $"switching over to {to}: checkpoint, clean stop so it receives all WAL, then release the leader key", Candidate: to);
    }

    static HaDecision DecideClone(ClusterSnapshot c)
    {
        // Prefer a running member tagged clonefrom (offloads the leader), else the leader: holding the
        // key means it runs, even before its member key says so (member changes do not wake the loop).
        var source = c.Members.FirstOrDefault(m => m.CloneFrom && m.IsRunning && m.Name != c.Leader?.Name && m.PostgresEndpoint is not null)
            ?? (c.LeaderMember is { PostgresEndpoint: not null } l ? l : null);
        return source is null
            ? new(HaActionKind.None, c.Leader is null ? "no leader to clone from: waiting" : $"the leader {c.Leader.Name} has published no address yet: waiting to clone")
            : new(HaActionKind.Clone, $"the data directory is empty: cloning from {source.Name}", UpstreamOf(c.LeaderMember), source.Name);
    }

    static HaDecision DecideStart(Observation o, HaSettings s, DateTimeOffset now)
    {
        var c = o.Cluster;
        if (c.Leader?.Name == s.MemberName)
        {
            switch (o.Lease)
            {
                case LeaseStatus.Renewed when PrimaryStartTimedOut(o, s, now):
                    return new(HaActionKind.ReleaseLeader, $"PostgreSQL did not come back within primary_start_timeout ({s.PrimaryStartTimeout.TotalSeconds:0}s): releasing the leader key");
                case LeaseStatus.Renewed:
                    return new(HaActionKind.StartAsPrimary, "PostgreSQL is down while this node holds the leader key: restarting it as the primary");
                case LeaseStatus.StaleOwnKey:
                    return new(HaActionKind.ReleaseLeader, "the leader key of an earlier run of this agent is left while PostgreSQL is down: releasing it");
                default:
                    return new(HaActionKind.StartAsReplica, "PostgreSQL is down and the leader key is not ours: starting as a standby");
            }
        }
        if (UpstreamOf(c.LeaderMember) is { } up)
            return new(HaActionKind.StartAsReplica, $"PostgreSQL is down: starting it as a standby of the leader {up.Name}", up);
        return new(HaActionKind.StartAsReplica, "PostgreSQL is down and there is no leader: starting it as a standby so this node can take part in the election");
    }

    static HaDecision DecideAsReplica(Observation o, HaSettings s, DateTimeOffset now)
    {
        var c = o.Cluster;
        var pg = o.Postgres;
        if (c.Leader?.Name == s.MemberName)
        {
            // The race checked the sync key when it was run; a standby left holding the key (its promotion failed)
            // checks it again: it may be promoted only while it holds every acknowledged commit.
            if (o.Lease == LeaseStatus.Renewed && !MayBePromoted(c, s, out var sync))
                return new(HaActionKind.ReleaseLeader, $"this node holds the leader key as a standby but is not a synchronous standby of {sync.Leader} ({SyncList(sync)}): releasing it instead of promoting");
            return o.Lease switch
            {
                LeaseStatus.Renewed => new(HaActionKind.Promote, "this node holds the leader key but runs as a standby: promoting"),
                LeaseStatus.StaleOwnKey => new(HaActionKind.ReleaseLeader, "the leader key of an earlier run of this agent is left while this node is a standby: releasing it"),
                _ => new(HaActionKind.None, "the leader key could not be renewed: staying a standby"),
            };
        }

        if (c.Leader is { } leader)
        {
            if (UpstreamOf(c.LeaderMember) is not { } up)
                return new(HaActionKind.None, $"the leader {leader.Name} has published no member key yet: waiting");
            if (o.Memory.ConfiguredUpstream != up)
                return new(HaActionKind.Follow, $"following the new leader {up.Name}", up);
            if (o.Memory.NotStreamingSince is { } since && now - since > s.Ttl
                && c.LeaderMember?.Data.Timeline is long leaderTl && pg.Timeline is long myTl && myTl < leaderTl)
            {
                return new(HaActionKind.Rejoin,
                    $"not streaming from {up.Name} for {(now - since).TotalSeconds:0}s and on timeline {myTl} behind the leader's {leaderTl}: the data has diverged: rejoining (pg_rewind, else a fresh clone)", up, up.Name);
            }
            return new(HaActionKind.None, pg.Streaming ? $"no action: streaming from the leader {up.Name}" : $"no action: waiting to stream from the leader {up.Name}");
        }

        return DecideRace(o, s);
    }

    /// <summary>The leader key is free: race only if this node is the healthiest candidate (Patroni's <c>_is_healthiest_node</c>).</summary>
    static HaDecision DecideRace(Observation o, HaSettings s)
    {
        var c = o.Cluster;
        var pg = o.Postgres;
        if (!s.CanBePromoted)
            return new(HaActionKind.None, "the leader key is free but this node is tagged nofailover (or failover_priority 0): not racing");
        var mine = pg.WalPosition ?? 0;
        var request = FailoverRequest.From(c);
        if (!MayBePromoted(c, s, out var sync))
            return new(HaActionKind.None, $"the leader key is free but synchronous mode is on and this node is not a synchronous standby of {sync.Leader} ({SyncList(sync)}): it may lack acknowledged transactions, not racing");
        if (request is { Member: { } candidate })
        {
            if (candidate == s.MemberName)
            {
                // A switchover's old leader published its last position before stopping cleanly: take over
                // only with all of it, so no acknowledged transaction is left behind.
                if (request.Leader is not null && c.LastLsn is long final && mine < final)
                    return new(HaActionKind.None, $"switchover to this node: waiting to receive all WAL of {request.Leader} ({mine} < {final})");
                return new(HaActionKind.AcquireAndPromote, $"a {(request.Leader is null ? "failover" : "switchover")} to this node was requested: taking the key and promoting");
            }
            // A switchover candidate the sync key does not name refuses the key (above): it holds back nobody.
            bool candidateMayTakeIt = sync is null || sync.Matches(candidate) || request.Leader is null;
            if (candidateMayTakeIt && o.Peers.Any(p => p.Name == candidate && p.Reachable && p.InRecovery == true))
                return new(HaActionKind.None, $"the leader key is free and a switchover to {candidate} is in progress: leaving it the race");
        }
        if (request?.Leader == s.MemberName)
        {
            // This node handed the key over: it takes it back only when nobody else can (Patroni's rule too).
            var heirs = o.Peers.Where(p => p.Reachable && p.InRecovery == true && !p.NoFailover && (sync is null || sync.Matches(p.Name))).Select(p => p.Name).ToList();
            if (heirs.Count > 0)
                return new(HaActionKind.None, $"this node stepped down for a switchover: leaving the race to {string.Join(", ", heirs)}");
        }
        if (c.LastLsn is long last && last - mine > s.MaximumLagOnFailover)
            return new(HaActionKind.None, $"the leader key is free but this node lags {last - mine} bytes behind the last known primary position, more than maximum_lag_on_failover ({s.MaximumLagOnFailover})");
        if (ClusterTimeline(c) is long clusterTl && pg.Timeline is long myTl && myTl < clusterTl)
            return new(HaActionKind.None, $"the leader key is free but this node's timeline {myTl} is behind the cluster's {clusterTl}");
        foreach (var p in o.Peers)
        {
            // The leader that just stepped down is no competitor (it leaves the race to the others, above).
            if (!p.Reachable || p.NoFailover || p.Name == s.MemberName || p.Name == request?.Leader) continue;
            // Among synchronous candidates only: an asynchronous peer further ahead cannot be promoted anyway.
            if (sync is not null && !sync.Matches(p.Name) && p.InRecovery == true) continue;
            if (p.InRecovery == false)
                return new(HaActionKind.None, $"the leader key is free but {p.Name} still runs as a primary: not racing");
            // A peer on an older timeline than this node has not followed the last promotion: its extra WAL is a
            // diverged branch, not newer data, and must not hold back the race.
            if (p.Timeline is long theirTl && pg.Timeline is long ownTl && theirTl < ownTl) continue;
            if (p.WalPosition is long theirs && theirs > mine)
                return new(HaActionKind.None, $"the leader key is free but {p.Name} has received more WAL ({theirs} > {mine}): leaving it the race");
            if (p.WalPosition == mine && p.FailoverPriority > s.FailoverPriority)
                return new(HaActionKind.None, $"the leader key is free; {p.Name} is as advanced and has a higher failover_priority: leaving it the race");
        }
        return new(HaActionKind.AcquireAndPromote, $"the leader key is free and this node is the most advanced candidate (WAL {mine}): taking the key and promoting");
    }

    /// <summary>The next memory: the timers the decider reads, advanced by what this cycle saw.</summary>
    public static AgentMemory Remember(AgentMemory m, Observation o, HaSettings s, DateTimeOffset now)
    {
        var pg = o.Postgres;
        var iLead = o.Cluster.Leader?.Name == s.MemberName && o.Lease == LeaseStatus.Renewed;
        var primaryDown = iLead && !pg.Accepting;
        var followsOther = pg.IsReplica && o.Cluster.Leader is { } l && l.Name != s.MemberName;
        var notStreaming = followsOther && !pg.Streaming;
        return m with
        {
            PrimaryDownSince = primaryDown ? m.PrimaryDownSince ?? now : null,
            NotStreamingSince = notStreaming ? m.NotStreamingSince ?? now : null,
        };
    }

    static bool PrimaryStartTimedOut(Observation o, HaSettings s, DateTimeOffset now)
        => o.Memory.PrimaryDownSince is { } since && now - since > s.PrimaryStartTimeout;

    static Upstream? UpstreamOf(Member? m)
        => m?.PostgresEndpoint is { } ep ? new Upstream(m.Name, ep.Host, ep.Port) : null;

    /// <summary>
    /// Synchronous mode: only the nodes the sync key names (<paramref name="sync"/>, null when it does not apply) hold
    /// every acknowledged commit. A failover the operator asked for by name is the one exception (Patroni's too):
    /// they chose to accept the loss.
    /// </summary>
    static bool MayBePromoted(ClusterSnapshot c, HaSettings s, [NotNullWhen(false)] out SyncState? sync)
    {
        sync = c.SyncSettings.Enabled && !c.Sync.IsEmpty ? c.Sync : null;
        bool namedByOperator = FailoverRequest.From(c) is { Member: { } named, Leader: null } && named == s.MemberName;
        return sync is null || sync.Matches(s.MemberName) || namedByOperator;
    }

    static string SyncList(SyncState sync) => sync.Members.IsEmpty ? "it names none" : "it names " + string.Join(", ", sync.Members);

    static string HolderSuffix(ClusterSnapshot c) => c.Leader is { } l ? $" ({l.Name} holds it)" : "";

    /// <summary>The newest timeline the cluster has reached: the leader's, else one past the last history entry.</summary>
    static long? ClusterTimeline(ClusterSnapshot c)
        => c.LeaderMember?.Data.Timeline ?? (HistoryParser.LastTimeline(c.HistoryJson) is long t ? t + 1 : null);

    static string Describe(HaActionKind k) => k switch
    {
        HaActionKind.Bootstrap => "bootstrap",
        HaActionKind.Clone => "cloning",
        HaActionKind.Rejoin => "rejoining",
        HaActionKind.StartAsPrimary or HaActionKind.StartAsReplica => "starting PostgreSQL",
        HaActionKind.Promote or HaActionKind.AcquireAndPromote => "promotion",
        HaActionKind.Demote => "demotion",
        HaActionKind.Follow => "changing the upstream",
        HaActionKind.Restart => "a restart requested by the operator",
        HaActionKind.Reinitialize => "a re-initialization requested by the operator",
        _ => k.ToString(),
    };
}
