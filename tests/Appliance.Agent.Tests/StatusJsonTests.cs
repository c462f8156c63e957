using System.Collections.Immutable;
using System.Text.Json;
using Appliance.Agent.Api;
using Appliance.Agent.Ha;
using Appliance.Cluster;
using Appliance.Node;

namespace Appliance.Agent.Tests;

/// <summary>Our <c>/patroni</c> carries every field Patroni's does, with the same types.</summary>
public class StatusJsonTests
{
    static readonly PostgresState Primary = new()
    {
        DataDirInitialized = true, PostmasterRunning = true, Accepting = true, InRecovery = false, Timeline = 13,
        WalPosition = 74254400, SystemId = "7712490607480592036", ServerVersion = 150020,
        PostmasterStartTime = new DateTimeOffset(2026, 11, 26, 14, 54, 27, TimeSpan.Zero),
        Replication = [new ReplicationRow("replicator", "db2", "10.231.0.12", "streaming", "async", 0, 1)],
    };

    static readonly AgentStatus Leading = new()
    {
        Cluster = new ClusterSnapshot { Leader = new LeaderLock("db1", 1, 1) },
        StoreLastSeen = DateTimeOffset.FromUnixTimeSeconds(1795705392),
        MemberState = "running",
    };

    [Theory]
    [InlineData("rest_leader_patroni.txt", true)]
    [InlineData("rest_replica_patroni.txt", false)]
    public void Has_every_field_of_patronis_answer(string golden, bool primary)
    {
        var pg = primary ? Primary : Primary with
        {
            InRecovery = true, Replication = [], ReceiveLsn = 74254400, ReplayLsn = 74254400,
            ReplayTimestamp = new DateTimeOffset(2026, 11, 26, 15, 2, 16, TimeSpan.Zero),
        };
        var ours = JsonDocument.Parse(StatusJson.Node(Leading, pg, "refstack", null)).RootElement;
        AssertSameShape(Golden.Json(golden), ours, "");
    }

    [Fact]
    public void Cluster_lists_members_with_role_and_lag_like_patroni()
    {
        var c = new ClusterSnapshot
        {
            Leader = new LeaderLock("db1", 1, 1), LastLsn = 1000,
            Members =
            [
                new Member("db1", new MemberData { ConnUrl = "postgres://10.0.0.1:5432/postgres", ApiUrl = "http://10.0.0.1:8008/patroni", State = "running", Role = "master", XlogLocation = 1000, Timeline = 2 }),
                new Member("db2", new MemberData { ConnUrl = "postgres://10.0.0.2:5432/postgres", ApiUrl = "http://10.0.0.2:8008/patroni", State = "running", Role = "replica", XlogLocation = 400, Timeline = 2 }),
            ],
        };
        var json = System.Text.Encoding.UTF8.GetString(StatusJson.Cluster(c));
        Assert.Equal("""{"members":[{"name":"db1","role":"leader","state":"running","api_url":"http://10.0.0.1:8008/patroni","host":"10.0.0.1","port":5432,"timeline":2},{"name":"db2","role":"replica","state":"running","api_url":"http://10.0.0.2:8008/patroni","host":"10.0.0.2","port":5432,"timeline":2,"lag":600}]}""", json);
    }

    [Fact]
    public void Pending_restart_shows_in_patroni_the_member_key_and_cluster_only_when_set()
    {
        var pending = Primary with { PendingRestartSettings = [new("max_connections", "100", "200")] };
        var node = JsonDocument.Parse(StatusJson.Node(Leading, pending, "s", null)).RootElement;
        Assert.True(node.GetProperty("pending_restart").GetBoolean());
        Assert.Equal("""{"max_connections":{"old_value":"100","new_value":"200"}}""", node.GetProperty("pending_restart_reason").GetRawText());
        Assert.False(JsonDocument.Parse(StatusJson.Node(Leading, Primary, "s", null)).RootElement.TryGetProperty("pending_restart", out _));

        var config = new Appliance.Configuration.ApplianceConfig();
        var data = new MemberPublisher(config).Build(pending, "running");
        Assert.Contains("\"pending_restart\":true", JsonSerializer.Serialize(data, ClusterJson.Default.MemberData), StringComparison.Ordinal);
        Assert.Null(new MemberPublisher(config).Build(Primary, "running").PendingRestart);

        var c = new ClusterSnapshot { Leader = new LeaderLock("db1", 1, 1), Members = [new Member("db1", data)] };
        Assert.Contains("\"timeline\":13,\"pending_restart\":true", System.Text.Encoding.UTF8.GetString(StatusJson.Cluster(c)), StringComparison.Ordinal);
    }

    static void AssertSameShape(JsonElement theirs, JsonElement ours, string path)
    {
        Assert.True(theirs.ValueKind == ours.ValueKind || (theirs.ValueKind is JsonValueKind.True or JsonValueKind.False && ours.ValueKind is JsonValueKind.True or JsonValueKind.False),
            $"{path}: Patroni has {theirs.ValueKind}, we have {ours.ValueKind}");
        if (theirs.ValueKind != JsonValueKind.Object) return;
        foreach (var p in theirs.EnumerateObject())
        {
            // The version is ours; everything else must be there.
            if (p.Name == "version" && path == ".patroni") continue;
            Assert.True(ours.TryGetProperty(p.Name, out var mine), $"{path}.{p.Name} is missing");
            if (p.Value.ValueKind == JsonValueKind.Array) Assert.Equal(JsonValueKind.Array, mine.ValueKind);
            else AssertSameShape(p.Value, mine, $"{path}.{p.Name}");
        }
    }
}
