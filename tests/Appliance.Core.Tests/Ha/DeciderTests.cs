using System.Collections.Immutable;
using Appliance.Cluster;
using Appliance.Ha;
using Appliance.Node;

namespace Appliance.Core.Tests.Ha;

/// <summary>One row per HA rule: an observation in, the action and its reason out. No mocks.</summary>
public partial class DeciderTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    static readonly HaSettings Settings = new() { MemberName = "db1", Ttl = TimeSpan.FromSeconds(30), MaximumLagOnFailover = 1_048_576 };
    const string SysId = "7712490607480592036";

    static Member M(string name, string role = "replica", long wal = 100, long tl = 1, string state = "running", Dictionary<string, JsonTagValue>? tags = null)
        => new(name, new MemberData
        {
            ConnUrl = $"postgres://127.0.0.{name[^1]}:5432/postgres",
            ApiUrl = $"http://127.0.0.{name[^1]}:8008/patroni",
            State = state, Role = role, XlogLocation = wal, Timeline = tl, Tags = tags,
        });

    static ClusterSnapshot Cluster(string? leader = "db2", string? init = SysId, long? lastLsn = 100, params Member[] members)
        => new()
        {
            Initialize = init,
            Leader = leader is null ? null : new LeaderLock(leader, 10, 1),
            Members = members.Length > 0 ? [.. members] : [M("db1"), M("db2", "master"), M("db3")],
            LastLsn = lastLsn,
        };

    static readonly PostgresState Replica = new()
    {
        DataDirInitialized = true, PostmasterRunning = true, Accepting = true, InRecovery = true,
        Timeline = 1, WalPosition = 100, SystemId = SysId, Streaming = true,
    };
    static readonly PostgresState Primary = Replica with { InRecovery = false, Streaming = false };
    static readonly PostgresState Down = Replica with { PostmasterRunning = false, Accepting = false, InRecovery = null, Streaming = false };
    static readonly PostgresState Empty = new();
    static readonly Upstream Db2 = new("db2", "127.0.0.2", 5432);
    static readonly AgentMemory FollowingDb2 = new() { ConfiguredUpstream = Db2 };

    static HaDecision Decide(ClusterSnapshot c, PostgresState pg, LeaseStatus lease = LeaseStatus.NotLeader,
        AgentMemory? memory = null, bool reachable = true, HaSettings? settings = null, params PeerStatus[] peers)
        => Decider.Decide(new Observation
        {
            Cluster = c, Postgres = pg, Lease = lease, StoreReachable = reachable,
            Memory = memory ?? FollowingDb2, Peers = [.. peers],
        }, settings ?? Settings, Now);

    static void Expect(HaDecision d, HaActionKind action, string reasonPart)
    {
        Assert.Equal(action, d.Action);
        Assert.Contains(reasonPart, d.Reason, StringComparison.Ordinal);
    }

    [Fact] public void Uninitialized_cluster_and_empty_data_dir_races_to_bootstrap()
        => Expect(Decide(Cluster(leader: null, init: null), Empty), HaActionKind.Bootstrap, "not initialized");

    [Fact] public void Uninitialized_cluster_with_existing_data_claims_it()
        => Expect(Decide(Cluster(leader: null, init: null), Down), HaActionKind.AdoptExistingData, "has a data directory");

    [Fact] public void Someone_else_bootstrapping_means_wait()
        => Expect(Decide(Cluster(leader: null, init: ""), Empty), HaActionKind.None, "bootstrapping");

    [Fact] public void Empty_data_dir_clones_from_the_running_leader()
    {
        var d = Decide(Cluster(), Empty);
        Expect(d, HaActionKind.Clone, "cloning from db2");
        Assert.Equal("db2", d.CloneFrom);
    }

    [Fact] public void Clone_prefers_a_running_clonefrom_member()
    {
        var c = Cluster(members: [M("db1"), M("db2", "master"), M("db3", tags: new() { ["clonefrom"] = true })]);
        Assert.Equal("db3", Decide(c, Empty).CloneFrom);
    }

    [Fact] public void Clone_does_not_wait_for_the_leaders_member_key_to_say_running()
        => Expect(Decide(Cluster(members: [M("db1"), M("db2", "master", state: "initializing new cluster"), M("db3")]), Empty), HaActionKind.Clone, "cloning from db2");

    [Fact] public void Empty_data_dir_without_leader_waits()
        => Expect(Decide(Cluster(leader: null), Empty), HaActionKind.None, "no leader to clone from");

    [Fact] public void Data_dir_of_another_cluster_is_never_started()
        => Expect(Decide(Cluster(), Down with { SystemId = "42" }), HaActionKind.None, "belongs to another cluster");

    [Fact] public void Leader_renews_its_lease_every_cycle()
        => Expect(Decide(Cluster(leader: "db1"), Primary, LeaseStatus.Renewed), HaActionKind.KeepLeading, "renewed the leader lease");

    [Fact] public void Leader_that_cannot_renew_within_retry_timeout_demotes()
        => Expect(Decide(Cluster(leader: "db1"), Primary, LeaseStatus.Failed), HaActionKind.Demote, "before it can expire");

    [Fact] public void Leader_cut_off_from_etcd_demotes()
        => Expect(Decide(Cluster(leader: "db1"), Primary, LeaseStatus.NotLeader, reachable: false), HaActionKind.Demote, "cannot reach etcd");

    [Fact] public void Leader_whose_key_was_taken_demotes()
        => Expect(Decide(Cluster(leader: "db2"), Primary, LeaseStatus.Lost), HaActionKind.Demote, "no longer ours (db2 holds it)");

    [Fact] public void Primary_that_is_not_the_leader_demotes_to_follow()
        => Expect(Decide(Cluster(leader: "db2"), Primary), HaActionKind.Demote, "db2 holds the leader key");

    [Fact] public void Demotion_rules_win_even_while_an_action_runs()
        => Expect(Decide(Cluster(leader: "db1"), Primary, LeaseStatus.Failed, memory: new() { ActionInProgress = HaActionKind.StartAsPrimary }), HaActionKind.Demote, "retry_timeout");

    [Fact] public void Primary_with_free_key_takes_it()
        => Expect(Decide(Cluster(leader: null), Primary), HaActionKind.AcquireAsPrimary, "runs as the primary");

    [Fact] public void Own_key_left_by_an_earlier_agent_run_is_taken_over_by_a_running_primary()
        => Expect(Decide(Cluster(leader: "db1"), Primary, LeaseStatus.StaleOwnKey), HaActionKind.TakeOverOwnKey, "earlier run");

    [Fact] public void Own_stale_key_with_postgres_down_is_released()
        => Expect(Decide(Cluster(leader: "db1"), Down, LeaseStatus.StaleOwnKey), HaActionKind.ReleaseLeader, "earlier run");

    [Fact] public void Crashed_postgres_on_the_leader_is_restarted_in_place()
        => Expect(Decide(Cluster(leader: "db1"), Down, LeaseStatus.Renewed, memory: new() { PrimaryDownSince = Now.AddSeconds(-5) }), HaActionKind.StartAsPrimary, "restarting it as the primary");

    [Fact] public void Leader_releases_the_key_when_postgres_misses_primary_start_timeout()
        => Expect(Decide(Cluster(leader: "db1"), Down, LeaseStatus.Renewed, memory: new() { PrimaryDownSince = Now.AddSeconds(-301) }), HaActionKind.ReleaseLeader, "primary_start_timeout");

    [Fact] public void Stopped_node_starts_as_a_standby_of_the_leader()
    {
        var d = Decide(Cluster(), Down);
        Expect(d, HaActionKind.StartAsReplica, "standby of the leader db2");
        Assert.Equal(Db2, d.Upstream);
    }

    [Fact] public void Former_primary_never_starts_as_primary_without_the_key()
        => Expect(Decide(Cluster(leader: null), Down with { Timeline = 1 }), HaActionKind.StartAsReplica, "take part in the election");

    [Fact] public void Replica_follows_a_new_leader()
    {
        var d = Decide(Cluster(leader: "db3", members: [M("db1"), M("db2"), M("db3", "master")]), Replica);
        Expect(d, HaActionKind.Follow, "db3");
        Assert.Equal("db3", d.Upstream?.Name);
    }

    [Fact] public void Replica_streaming_from_the_leader_does_nothing()
        => Expect(Decide(Cluster(), Replica), HaActionKind.None, "streaming from the leader db2");

    [Fact] public void Replica_diverged_from_a_newer_timeline_reclones()
    {
        var c = Cluster(members: [M("db1"), M("db2", "master", tl: 2), M("db3")]);
        var d = Decide(c, Replica with { Streaming = false }, memory: FollowingDb2 with { NotStreamingSince = Now.AddSeconds(-31) });
        Expect(d, HaActionKind.Rejoin, "diverged");
    }

    [Fact] public void Replica_not_streaming_briefly_waits()
    {
        var c = Cluster(members: [M("db1"), M("db2", "master", tl: 2), M("db3")]);
        Expect(Decide(c, Replica with { Streaming = false }, memory: FollowingDb2 with { NotStreamingSince = Now.AddSeconds(-3) }), HaActionKind.None, "waiting to stream");
    }

    [Fact] public void Healthiest_replica_races_for_the_free_key()
        => Expect(Decide(Cluster(leader: null), Replica, peers: [new("db3", true, true, 90, false, 1)]), HaActionKind.AcquireAndPromote, "most advanced");

    [Fact] public void Replica_behind_a_peer_does_not_race()
        => Expect(Decide(Cluster(leader: null), Replica, peers: [new("db3", true, true, 150, false, 1)]), HaActionKind.None, "db3 has received more WAL");

    [Fact] public void Equal_wal_loses_to_a_higher_failover_priority()
        => Expect(Decide(Cluster(leader: null), Replica, peers: [new("db3", true, true, 100, false, 5)]), HaActionKind.None, "higher failover_priority");

    [Fact] public void Equal_wal_and_priority_races_and_the_store_picks_one()
        => Expect(Decide(Cluster(leader: null), Replica, peers: [new("db3", true, true, 100, false, 1)]), HaActionKind.AcquireAndPromote, "most advanced");

    [Fact] public void Unreachable_and_nofailover_peers_do_not_block_the_race()
        => Expect(Decide(Cluster(leader: null), Replica, peers: [PeerStatus.Unreachable("db2"), new("db3", true, true, 500, true, 1)]), HaActionKind.AcquireAndPromote, "most advanced");

    [Fact] public void A_peer_still_running_as_primary_blocks_the_race()
        => Expect(Decide(Cluster(leader: null), Replica, peers: [new("db2", true, false, 100, false, 1)]), HaActionKind.None, "still runs as a primary");

    [Fact] public void Lagging_replica_does_not_race()
        => Expect(Decide(Cluster(leader: null, lastLsn: 100 + 2_000_000), Replica), HaActionKind.None, "maximum_lag_on_failover");

    [Fact] public void Nofailover_replica_does_not_race()
        => Expect(Decide(Cluster(leader: null), Replica, settings: Settings with { NoFailover = true }), HaActionKind.None, "nofailover");

    [Fact] public void Replica_on_an_older_timeline_than_the_cluster_does_not_race()
    {
        var c = Cluster(leader: null) with { HistoryJson = "[[1,50,\"no recovery target specified\",\"2026-11-26T00:00:00+00:00\",\"db2\"]]" };
        Expect(Decide(c, Replica with { Timeline = 1 }), HaActionKind.None, "behind the cluster's 2");
    }

    [Fact] public void Standby_holding_the_key_promotes()
        => Expect(Decide(Cluster(leader: "db1"), Replica, LeaseStatus.Renewed), HaActionKind.Promote, "promoting");

    [Fact] public void Long_action_in_progress_blocks_new_actions()
        => Expect(Decide(Cluster(), Empty, memory: new() { ActionInProgress = HaActionKind.Clone }), HaActionKind.None, "cloning in progress");

    [Fact] public void Replica_cut_off_from_etcd_keeps_its_state()
        => Expect(Decide(Cluster(), Replica, reachable: false), HaActionKind.None, "cannot reach etcd");

    [Fact] public void Memory_starts_and_clears_the_primary_down_timer()
    {
        var down = new Observation { Cluster = Cluster(leader: "db1"), Postgres = Down, Lease = LeaseStatus.Renewed };
        var m1 = Decider.Remember(AgentMemory.Empty, down, Settings, Now);
        Assert.Equal(Now, m1.PrimaryDownSince);
        Assert.Equal(Now, Decider.Remember(m1, down, Settings, Now.AddSeconds(5)).PrimaryDownSince);
        Assert.Null(Decider.Remember(m1, down with { Postgres = Primary }, Settings, Now.AddSeconds(6)).PrimaryDownSince);
    }

    [Fact] public void History_append_keeps_earlier_entries_and_replaces_a_repeated_timeline()
    {
        var h = HistoryParser.Append(null, 1, 500, Now, "db2");
        h = HistoryParser.Append(h, 2, 900, Now, "db3");
        Assert.Equal(2, HistoryParser.LastTimeline(h));
        Assert.StartsWith("[[1,500,\"no recovery target specified\",\"2026-11-26T12:00:00.000000+00:00\",\"db2\"],[2,900,", h, StringComparison.Ordinal);
        Assert.Equal(h, HistoryParser.Append(h, 2, 900, Now, "db3"));
    }
}
