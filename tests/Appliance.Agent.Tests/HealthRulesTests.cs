using Appliance.Agent.Api;
using Appliance.Agent.Ha;
using Appliance.Cluster;
using Appliance.Node;

namespace Appliance.Agent.Tests;

/// <summary>The status codes of a healthy leader and replica, row for row against what Patroni 3.0.2 answered.</summary>
public class HealthRulesTests
{
    static readonly PostgresState Primary = new() { DataDirInitialized = true, PostmasterRunning = true, Accepting = true, InRecovery = false, WalPosition = 500 };
    static readonly PostgresState Replica = Primary with { InRecovery = true, ReplayLsn = 500 };
    static readonly AgentStatus Status = new() { Cluster = new ClusterSnapshot { Leader = new LeaderLock("db1", 1, 1), LastLsn = 500 }, StoreLastSeen = DateTimeOffset.UnixEpoch };

    static HealthRules.Facts Leader => new(Status, Primary, false, true, null);
    static HealthRules.Facts OnReplica => new(Status, Replica, false, false, null);

    public static TheoryData<string, int, int> Matrix()
    {
        var data = new TheoryData<string, int, int>();
        var paths = new Dictionary<string, string> { ["primary"] = "/primary", ["leader"] = "/leader", ["replica"] = "/replica", ["read-only"] = "/read-only", ["health"] = "/health", ["sync"] = "/sync", ["asynchronous"] = "/asynchronous" };
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Golden", "STATUS_MATRIX.txt")).Where(l => !l.StartsWith('#')))
        {
            var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (cols.Length == 3 && paths.TryGetValue(cols[0], out var path)) data.Add(path, int.Parse(cols[1]), int.Parse(cols[2]));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public void Answers_as_patroni_does(string path, int onLeader, int onReplica)
    {
        Assert.Equal(onLeader, HealthRules.StatusCode(path, Leader));
        Assert.Equal(onReplica, HealthRules.StatusCode(path, OnReplica));
    }

    [Fact]
    public void A_leader_whose_postgres_is_down_is_not_advertised_as_primary()
        => Assert.Equal(503, HealthRules.StatusCode("/primary", Leader with { Postgres = new PostgresState() }));

    [Fact]
    public void Lag_and_noloadbalance_take_a_replica_out()
    {
        var lagging = OnReplica with { Status = Status with { Cluster = Status.Cluster with { LastLsn = 5_000_000 } }, MaxLag = HealthRules.ParseLag("1MB") };
        Assert.Equal(503, HealthRules.StatusCode("/replica", lagging));
        Assert.Equal(200, HealthRules.StatusCode("/replica", lagging with { MaxLag = HealthRules.ParseLag("10MB") }));
        Assert.Equal(503, HealthRules.StatusCode("/replica", OnReplica with { NoLoadBalance = true }));
    }

    [Fact]
    public void A_synchronous_standby_answers_the_sync_endpoints_and_not_the_async_ones()
    {
        var sync = OnReplica with { Status = Status with { SyncStandby = true } };
        Assert.Equal(200, HealthRules.StatusCode("/sync", sync));
        Assert.Equal(200, HealthRules.StatusCode("/read-only-sync", sync));
        Assert.Equal(503, HealthRules.StatusCode("/async", sync));
        Assert.Equal(503, HealthRules.StatusCode("/read-only-sync", OnReplica));
        Assert.Equal(200, HealthRules.StatusCode("/read-only-sync", Leader));
    }

    [Theory]
    [InlineData("1024", 1024L)]
    [InlineData("16kB", 16384L)]
    [InlineData("1MB", 1048576L)]
    [InlineData("2GB", 2147483648L)]
    [InlineData("lots", null)]
    [InlineData("-5", null)]
    public void Parses_lag_like_patroni(string text, long? bytes) => Assert.Equal(bytes, HealthRules.ParseLag(text));
}
