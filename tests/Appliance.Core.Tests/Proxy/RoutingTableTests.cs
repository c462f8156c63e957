using Appliance.Cluster;
using Appliance.Proxy;

namespace Appliance.Core.Tests.Proxy;

/// <summary>Where the proxy sends clients: following etcd, with the health checks as the backstop.</summary>
public class RoutingTableTests
{
    static readonly RoutingOptions Options = new();
    static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    static Member M(string name, string role, long wal = 100, bool noloadbalance = false)
        => new(name, new MemberData
        {
            ConnUrl = $"postgres://10.0.0.{name[^1]}:5432/postgres", State = "running", Role = role, XlogLocation = wal,
            Tags = noloadbalance ? new() { ["noloadbalance"] = true } : null,
        });

    static ClusterSnapshot Cluster(string? leader, params Member[] members)
        => new() { Leader = leader is null ? null : new LeaderLock(leader, 1, 1), Members = [.. members], LastLsn = 100 };

    static readonly ClusterSnapshot Healthy = Cluster("db1", M("db1", "master"), M("db2", "replica"), M("db3", "replica"));
    static readonly Backend[] Known = [new("db1", "10.0.0.1", 5432), new("db2", "10.0.0.2", 5432), new("db3", "10.0.0.3", 5432)];

    static Dictionary<string, BackendCheck> Checks(params (string Name, bool Up, BackendRole Role)[] c) => c.ToDictionary(x => x.Name, x => new BackendCheck(x.Up, x.Role));

    static readonly Dictionary<string, BackendCheck> AllUp = Checks(("db1", true, BackendRole.Primary), ("db2", true, BackendRole.Replica), ("db3", true, BackendRole.Replica));

    [Fact] public void Writes_go_to_the_leader_and_reads_to_the_replicas()
    {
        var r = RoutingTable.Compute(Healthy, Known, AllUp, Options, Now);
        Assert.Equal("db1", r.Primary?.Name);
        Assert.Equal<string>(["db2", "db3"], [.. r.Replicas.Select(b => b.Name)]);
        Assert.Equal(new Backend("db1", "10.0.0.1", 5432), r.Primary);
    }

    [Fact] public void No_writes_while_the_leader_key_is_free_even_if_a_node_still_says_primary()
    {
        var r = RoutingTable.Compute(Cluster(null, M("db1", "master"), M("db2", "replica")), Known, AllUp, Options, Now);
        Assert.Null(r.Primary);
        Assert.Contains("holding write connections", r.Reason, StringComparison.Ordinal);
    }

    [Fact] public void A_new_leader_takes_writes_only_once_it_reports_itself_primary()
    {
        var c = Cluster("db2", M("db1", "master"), M("db2", "replica"));
        var stillPromoting = Checks(("db1", true, BackendRole.Primary), ("db2", true, BackendRole.Replica));
        Assert.Null(RoutingTable.Compute(c, Known, stillPromoting, Options, Now).Primary);
        var promoted = Checks(("db1", true, BackendRole.Primary), ("db2", true, BackendRole.Primary));
        Assert.Equal("db2", RoutingTable.Compute(c, Known, promoted, Options, Now).Primary?.Name);
    }

    [Fact] public void A_leader_whose_check_fails_takes_no_writes()
        => Assert.Null(RoutingTable.Compute(Healthy, Known, Checks(("db1", false, BackendRole.Primary)), Options, Now).Primary);

    [Fact] public void A_tcp_check_defers_to_the_member_key_for_the_role()
    {
        var tcp = Checks(("db1", true, BackendRole.Unknown), ("db2", true, BackendRole.Unknown));
        var r = RoutingTable.Compute(Cluster("db1", M("db1", "master"), M("db2", "replica")), Known, tcp, Options, Now);
        Assert.Equal("db1", r.Primary?.Name);
        Assert.Equal<string>(["db2"], [.. r.Replicas.Select(b => b.Name)]);
    }

    [Fact] public void Noloadbalance_lagging_and_failing_replicas_take_no_reads()
    {
        var c = Cluster("db1", M("db1", "master"), M("db2", "replica", noloadbalance: true), M("db3", "replica", wal: 10));
        var r = RoutingTable.Compute(c, Known, AllUp, Options with { MaximumReplicaLag = 50, ReplicasFallBackToPrimary = false }, Now);
        Assert.Empty(r.Replicas);
        Assert.Equal<string>(["db3"], [.. RoutingTable.Compute(c, Known, AllUp, Options with { ReplicasFallBackToPrimary = false }, Now).Replicas.Select(b => b.Name)]);
    }

    [Fact] public void Reads_fall_back_to_the_primary_when_no_replica_is_healthy_unless_told_not_to()
    {
        var down = Checks(("db1", true, BackendRole.Primary), ("db2", false, BackendRole.Replica), ("db3", false, BackendRole.Replica));
        Assert.Equal<string>(["db1"], [.. RoutingTable.Compute(Healthy, Known, down, Options, Now).Replicas.Select(b => b.Name)]);
        Assert.Empty(RoutingTable.Compute(Healthy, Known, down, Options with { ReplicasFallBackToPrimary = false }, Now).Replicas);
    }

    [Fact] public void Without_etcd_the_one_backend_whose_check_says_primary_takes_writes()
    {
        var r = RoutingTable.Compute(null, Known, AllUp, Options, Now);
        Assert.Equal("db1", r.Primary?.Name);
        Assert.Equal<string>(["db2", "db3"], [.. r.Replicas.Select(b => b.Name)]);
    }

    [Fact] public void Without_etcd_two_backends_saying_primary_take_no_writes()
    {
        var split = Checks(("db1", true, BackendRole.Primary), ("db2", true, BackendRole.Primary));
        var r = RoutingTable.Compute(null, Known, split, Options with { ReplicasFallBackToPrimary = false }, Now);
        Assert.Null(r.Primary);
        Assert.Contains("db1, db2 all say primary", r.Reason, StringComparison.Ordinal);
    }

    [Fact] public void A_static_backend_behind_a_role_blind_check_takes_writes_only_when_it_is_the_one_up()
    {
        var opts = Options with { LoneUpBackendIsPrimary = true, ReplicasFallBackToPrimary = false };
        var lone = RoutingTable.Compute(null, Known, Checks(("db1", true, BackendRole.Unknown), ("db2", false, BackendRole.Unknown)), opts, Now);
        Assert.Equal("db1", lone.Primary?.Name);
        Assert.Empty(lone.Replicas);

        var two = RoutingTable.Compute(null, Known, Checks(("db1", true, BackendRole.Unknown), ("db2", true, BackendRole.Unknown)), opts, Now);
        Assert.Null(two.Primary);
        Assert.Equal<string>(["db1", "db2"], [.. two.Replicas.Select(b => b.Name)]);

        Assert.Null(RoutingTable.Compute(null, Known, Checks(("db1", true, BackendRole.Unknown)), Options, Now).Primary);
    }

    static ClusterSnapshot WithFailover(ClusterSnapshot c, string json) => c with { FailoverJson = json, FailoverVersion = 7 };

    [Fact] public void A_switchover_under_way_holds_writes_before_the_primary_stops()
    {
        var r = RoutingTable.Compute(WithFailover(Healthy, """{"leader":"db1","member":"db2"}"""), Known, AllUp, Options, Now);
        Assert.Null(r.Primary);
        Assert.Contains("switchover from db1 to db2 is under way", r.Reason, StringComparison.Ordinal);
        Assert.Equal<string>(["db2", "db3"], [.. r.Replicas.Select(b => b.Name)]);
    }

    [Fact] public void A_scheduled_switchover_holds_writes_only_from_its_time_and_a_stale_or_finished_one_not_at_all()
    {
        var later = WithFailover(Healthy, """{"leader":"db1","member":"db2","scheduled_at":"2026-11-26T13:00:00+00:00"}""");
        Assert.Equal("db1", RoutingTable.Compute(later, Known, AllUp, Options, Now).Primary?.Name);
        Assert.Null(RoutingTable.Compute(later, Known, AllUp, Options, Now.AddHours(2)).Primary);
        // Meant for another leader, or already done (the candidate leads): nothing to wait for.
        Assert.Equal("db1", RoutingTable.Compute(WithFailover(Healthy, """{"leader":"db3","member":"db2"}"""), Known, AllUp, Options, Now).Primary?.Name);
        Assert.Equal("db1", RoutingTable.Compute(WithFailover(Healthy, """{"member":"db1"}"""), Known, AllUp, Options, Now).Primary?.Name);
        Assert.Equal("db1", RoutingTable.Compute(WithFailover(Healthy, "{}"), Known, AllUp, Options, Now).Primary?.Name);
    }
}
