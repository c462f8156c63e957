using Appliance.Cluster;
using Appliance.Ha;
using Appliance.Node;

namespace Appliance.Core.Tests.Ha;

/// <summary>Rows for synchronous mode: only the nodes the sync key names may be promoted automatically.</summary>
public partial class DeciderTests
{
    const string SyncOn = """{"ttl":30,"synchronous_mode":true}""";

    static ClusterSnapshot SyncCluster(string? leader, string syncJson, string config = SyncOn)
        => Cluster(leader: leader) with { ConfigJson = config, SyncJson = syncJson, SyncVersion = 9 };

    [Fact] public void An_asynchronous_replica_does_not_race_in_synchronous_mode()
        => Expect(Decide(SyncCluster(null, """{"leader":"db2","sync_standby":"db3"}"""), Replica with { WalPosition = 500 }),
            HaActionKind.None, "not a synchronous standby of db2 (it names db3)");

    [Fact] public void The_synchronous_standby_races()
        => Expect(Decide(SyncCluster(null, """{"leader":"db2","sync_standby":"db1"}"""), Replica),
            HaActionKind.AcquireAndPromote, "most advanced");

    [Fact] public void The_synchronous_standby_ignores_a_more_advanced_asynchronous_peer()
        => Expect(Decide(SyncCluster(null, """{"leader":"db2","sync_standby":"db1"}"""), Replica, peers: [new("db3", true, true, 900, false, 1)]),
            HaActionKind.AcquireAndPromote, "most advanced");

    [Fact] public void The_leader_the_sync_key_names_may_take_the_key_back()
        => Expect(Decide(SyncCluster(null, """{"leader":"db1","sync_standby":null}"""), Replica),
            HaActionKind.AcquireAndPromote, "most advanced");

    [Fact] public void With_no_synchronous_standby_named_nobody_else_is_promoted()
        => Expect(Decide(SyncCluster(null, """{"leader":"db2","sync_standby":null}"""), Replica),
            HaActionKind.None, "it names none");

    [Fact] public void The_sync_key_is_ignored_when_synchronous_mode_is_off()
        => Expect(Decide(SyncCluster(null, """{"leader":"db2","sync_standby":"db3"}""", """{"synchronous_mode":false}"""), Replica),
            HaActionKind.AcquireAndPromote, "most advanced");

    [Fact] public void An_operator_failover_to_a_named_asynchronous_node_is_carried_out()
        => Expect(Decide(SyncCluster(null, """{"leader":"db2","sync_standby":"db3"}""") with { FailoverJson = """{"member":"db1"}""" }, Replica),
            HaActionKind.AcquireAndPromote, "failover to this node");

    [Fact] public void A_switchover_to_an_asynchronous_candidate_is_dropped()
        => Expect(Decide(SyncCluster("db1", """{"leader":"db1","sync_standby":"db3"}""") with { FailoverJson = """{"leader":"db1","member":"db2"}""", FailoverVersion = 7 },
                Primary, LeaseStatus.Renewed, peers: [HealthyDb2]),
            HaActionKind.ClearFailover, "not a synchronous standby");

    /// <summary>Simulator seed 594: the candidate refuses (not synchronous), and nobody else raced while it stood named.</summary>
    [Fact] public void A_switchover_candidate_that_is_not_synchronous_does_not_hold_back_the_synchronous_standby()
        => Expect(Decide(SyncCluster(null, """{"leader":"db2","sync_standby":"db1"}""") with { FailoverJson = """{"leader":"db2","member":"db3"}""", FailoverVersion = 7 },
                Replica, peers: [new("db3", true, true, 100, false, 1)]),
            HaActionKind.AcquireAndPromote, "most advanced");

    [Fact] public void A_standby_holding_the_key_that_the_sync_key_does_not_name_releases_it_instead_of_promoting()
        => Expect(Decide(SyncCluster("db1", """{"leader":"db2","sync_standby":"db3"}"""), Replica, LeaseStatus.Renewed),
            HaActionKind.ReleaseLeader, "not a synchronous standby");

    [Fact] public void A_standby_holding_the_key_that_the_sync_key_names_promotes()
        => Expect(Decide(SyncCluster("db1", """{"leader":"db2","sync_standby":"db1"}"""), Replica, LeaseStatus.Renewed),
            HaActionKind.Promote, "promoting");

    [Fact] public void A_switchover_without_a_candidate_goes_to_the_synchronous_standby()
    {
        var d = Decide(SyncCluster("db1", """{"leader":"db1","sync_standby":"db3"}""") with { FailoverJson = """{"leader":"db1"}""", FailoverVersion = 7 },
            Primary, LeaseStatus.Renewed, peers: [new("db2", true, true, 900, false, 1), new("db3", true, true, 100, false, 1)]);
        Expect(d, HaActionKind.StepDown, "switching over to db3");
    }
}
