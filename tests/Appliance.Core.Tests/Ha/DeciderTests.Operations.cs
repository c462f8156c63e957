using Appliance.Cluster;
using Appliance.Ha;
using Appliance.Node;

namespace Appliance.Core.Tests.Ha;

/// <summary>Rows for the operator's requests: switchover, failover, pause, and the rules the review added.</summary>
public partial class DeciderTests
{
    static ClusterSnapshot WithRequest(ClusterSnapshot c, string json) => c with { FailoverJson = json, FailoverVersion = 7 };
    static readonly PeerStatus HealthyDb2 = new("db2", true, true, 100, false, 1);

    [Fact] public void Leader_steps_down_for_a_switchover_to_a_healthy_candidate()
    {
        var d = Decide(WithRequest(Cluster(leader: "db1"), """{"leader":"db1","member":"db2"}"""), Primary, LeaseStatus.Renewed, peers: [HealthyDb2]);
        Expect(d, HaActionKind.StepDown, "switching over to db2");
        Assert.Equal("db2", d.Candidate);
    }

    [Fact] public void Switchover_without_a_candidate_picks_the_most_advanced_healthy_replica()
        => Assert.Equal("db3", Decide(WithRequest(Cluster(leader: "db1"), """{"leader":"db1"}"""), Primary, LeaseStatus.Renewed,
            peers: [HealthyDb2, new("db3", true, true, 150, false, 1)]).Candidate);

    [Fact] public void Switchover_to_an_unhealthy_candidate_is_dropped()
        => Expect(Decide(WithRequest(Cluster(leader: "db1"), """{"leader":"db1","member":"db2"}"""), Primary, LeaseStatus.Renewed,
            peers: [PeerStatus.Unreachable("db2")]), HaActionKind.ClearFailover, "not a healthy running replica");

    [Fact] public void Switchover_from_another_leader_is_dropped()
        => Expect(Decide(WithRequest(Cluster(leader: "db1"), """{"leader":"db3","member":"db2"}"""), Primary, LeaseStatus.Renewed, peers: [HealthyDb2]),
            HaActionKind.ClearFailover, "from db3 was requested");

    [Fact] public void A_scheduled_switchover_waits_for_its_time()
        => Expect(Decide(WithRequest(Cluster(leader: "db1"), """{"leader":"db1","member":"db2","scheduled_at":"2026-11-26T13:00:00+00:00"}"""), Primary, LeaseStatus.Renewed, peers: [HealthyDb2]),
            HaActionKind.KeepLeading, "scheduled at");

    [Fact] public void The_candidate_takes_the_free_key_once_it_has_all_the_old_leaders_wal()
    {
        var c = WithRequest(Cluster(leader: null, lastLsn: 150), """{"leader":"db2","member":"db1"}""");
        Expect(Decide(c, Replica), HaActionKind.None, "waiting to receive all WAL of db2");
        Expect(Decide(c, Replica with { WalPosition = 150 }), HaActionKind.AcquireAndPromote, "switchover to this node");
    }

    [Fact] public void Others_leave_the_race_to_a_healthy_candidate()
        => Expect(Decide(WithRequest(Cluster(leader: null), """{"leader":"db2","member":"db3"}"""), Replica with { WalPosition = 500 },
            peers: [new("db3", true, true, 100, false, 1)]), HaActionKind.None, "switchover to db3 is in progress");

    [Fact] public void The_leader_that_stepped_down_leaves_the_race_to_a_healthy_replica()
    {
        var c = WithRequest(Cluster(leader: null), """{"leader":"db1"}""");
        Expect(Decide(c, Replica, peers: [HealthyDb2]), HaActionKind.None, "stepped down for a switchover: leaving the race to db2");
        Expect(Decide(c, Replica, peers: [PeerStatus.Unreachable("db2")]), HaActionKind.AcquireAndPromote, "most advanced");
    }

    [Fact] public void The_others_do_not_count_the_leader_that_stepped_down_as_a_competitor()
        => Expect(Decide(WithRequest(Cluster(leader: null), """{"leader":"db3"}"""), Replica, peers: [new("db3", true, true, 900, false, 1)]),
            HaActionKind.AcquireAndPromote, "most advanced");

    [Fact] public void An_unreachable_candidate_does_not_block_the_race()
        => Expect(Decide(WithRequest(Cluster(leader: null), """{"member":"db3"}"""), Replica, peers: [PeerStatus.Unreachable("db3")]),
            HaActionKind.AcquireAndPromote, "most advanced");

    [Fact] public void Paused_cluster_takes_no_automatic_failover()
    {
        var paused = Cluster(leader: null) with { ConfigJson = """{"ttl":30,"pause":true}""" };
        Expect(Decide(paused, Replica), HaActionKind.None, "paused");
        Expect(Decide(paused with { Leader = new LeaderLock("db1", 1, 1) }, Down, LeaseStatus.Renewed), HaActionKind.None, "paused");
        Expect(Decide(paused, Primary, reachable: false), HaActionKind.Demote, "cannot reach etcd");
    }

    [Fact] public void Paused_cluster_still_fails_over_to_a_named_candidate()
        => Expect(Decide(WithRequest(Cluster(leader: null) with { ConfigJson = """{"pause":true}""" }, """{"member":"db1"}"""), Replica),
            HaActionKind.AcquireAndPromote, "failover to this node");

    [Fact] public void A_silent_postmaster_without_standby_signal_is_demoted_when_the_lease_is_in_doubt()
        => Expect(Decide(Cluster(leader: "db1"), Primary with { Accepting = false, InRecovery = null }, LeaseStatus.Failed),
            HaActionKind.Demote, "without standby.signal");

    [Fact] public void A_starting_standby_is_left_alone_when_etcd_is_away()
        => Expect(Decide(Cluster(), Replica with { Accepting = false, InRecovery = null, StandbyConfigured = true }, reachable: false),
            HaActionKind.None, "cannot reach etcd");

    [Fact] public void A_peer_with_failover_priority_0_does_not_hold_back_the_race()
    {
        var c = Cluster(leader: null, members: [M("db1"), M("db2", tags: new() { ["failover_priority"] = 0 }), M("db3")]);
        Assert.True(c.GetMember("db2")!.NoFailover);
        Expect(Decide(c, Replica, peers: [new("db2", true, true, 900, true, 0)]), HaActionKind.AcquireAndPromote, "most advanced");
    }

    [Fact] public void Config_patch_merges_and_null_deletes()
        => Assert.Equal("""{"ttl":30,"postgresql":{"parameters":{"work_mem":"8MB"}},"pause":true}""",
            DynamicConfig.Merge("""{"ttl":30,"loop_wait":10,"postgresql":{"parameters":{"work_mem":"4MB","x":1}}}""",
                """{"loop_wait":null,"pause":true,"postgresql":{"parameters":{"work_mem":"8MB","x":null}}}"""));

    [Fact] public void Failover_request_round_trips_patronis_json()
    {
        var c = new ClusterSnapshot { FailoverJson = """{"leader":"db1","member":"db2","scheduled_at":"2026-11-26T13:00:00+00:00"}""", FailoverVersion = 3 };
        var r = FailoverRequest.From(c)!;
        Assert.Equal(("db1", "db2", 3L), (r.Leader, r.Member, r.Version));
        Assert.Equal("""{"leader":"db1","member":"db2","scheduled_at":"2026-11-26T13:00:00+00:00"}""", r.ToJson());
        Assert.Null(FailoverRequest.From(new ClusterSnapshot { FailoverJson = "{}" }));
    }
}
