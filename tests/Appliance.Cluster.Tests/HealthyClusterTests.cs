using System.Text.Json;
using Appliance.Lab;
using Appliance.TestKit;

namespace Appliance.Cluster.Tests;

/// <summary>One cluster, bootstrapped once; these tests only read it (and insert rows).</summary>
public sealed class HealthyClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;
    public async Task InitializeAsync() => Cluster = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("healthy"));
    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class HealthyClusterTests(HealthyClusterFixture f) : IClassFixture<HealthyClusterFixture>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    LocalCluster C => f.Cluster;

    [Fact]
    public async Task Bootstrap_ran_initdb_on_exactly_one_node_and_the_others_cloned()
    {
        var initdbs = C.Members.Count(m => File.ReadAllText(m.AgentLog).Contains("won the bootstrap race: running initdb", StringComparison.Ordinal));
        Assert.Equal(1, initdbs);
        var primary = await C.WaitForPrimaryAsync("one primary", Deadline);
        var replicas = await C.ScalarAsync<long>(primary.Name, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'");
        Assert.Equal(2, replicas);
        foreach (var m in C.Members.Where(m => m != primary))
            Assert.True(await C.ScalarAsync<bool>(m.Name, "SELECT pg_is_in_recovery()"), $"{m.Name} is a standby");
        Assert.Equal(1, await C.ScalarAsync<int>(primary.Name, "SELECT current_setting('data_checksums')::bool::int"));
    }

    [Fact]
    public async Task A_row_written_on_the_leader_appears_on_both_replicas()
    {
        var primary = await C.WaitForPrimaryAsync("one primary", Deadline);
        var marker = Guid.NewGuid().ToString("N");
        await C.ExecAsync(primary.Name, $"CREATE TABLE IF NOT EXISTS ct_rows(v text); INSERT INTO ct_rows VALUES ('{marker}')");
        foreach (var m in C.Members.Where(m => m != primary))
            await Wait.UntilAsync($"the row reaches {m.Name}",
                async () => await C.ScalarAsync<long>(m.Name, $"SELECT count(*) FROM ct_rows WHERE v = '{marker}'") == 1, Deadline);
    }

    [Fact]
    public async Task Health_endpoints_answer_with_patronis_status_codes()
    {
        var primary = await C.WaitForPrimaryAsync("one primary", Deadline);
        var replica = C.Members.First(m => m != primary);
        (string Path, int Leader, int Replica)[] matrix =
        [
            ("/primary", 200, 503), ("/leader", 200, 503), ("/master", 200, 503), ("/replica", 503, 200),
            ("/read-only", 200, 200), ("/health", 200, 200), ("/liveness", 200, 200), ("/readiness", 200, 200),
            ("/async", 503, 200), ("/sync", 503, 503), ("/replica?lag=100MB", 503, 200),
        ];
        foreach (var (path, onLeader, onReplica) in matrix)
        {
            Assert.Equal((path, onLeader), (path, await C.HealthAsync(primary.Name, path)));
            Assert.Equal((path, onReplica), (path, await C.HealthAsync(replica.Name, path)));
        }
    }

    [Fact]
    public async Task Metrics_use_patronis_names_with_the_scope_label()
    {
        var primary = await C.WaitForPrimaryAsync("one primary", Deadline);
        var replica = C.Members.First(m => m != primary);
        using var http = new HttpClient();
        var scope = $"{{scope=\"{C.Options.Scope}\"}}";
        // The gauges follow the loop: wait for the first cycles to have published.
        await Wait.UntilAsync("the leader's /metrics says primary", async () =>
            (await http.GetStringAsync($"{primary.ApiUrl}/metrics")).Contains($"patroni_primary{scope} 1", StringComparison.Ordinal), Deadline);
        var leaderText = await http.GetStringAsync($"{primary.ApiUrl}/metrics");
        Assert.Contains($"patroni_postgres_running{scope} 1", leaderText, StringComparison.Ordinal);
        Assert.Contains($"patroni_postgres_timeline{scope} 1", leaderText, StringComparison.Ordinal);
        Assert.Matches(@"patroni_xlog_location\{scope=""[^""]+""\} [1-9]", leaderText);
        Assert.Matches(@"appliance_agent_decisions_total\{[^}]*scope=""", leaderText);
        Assert.Contains("appliance_agent_loop_duration_seconds_bucket", leaderText, StringComparison.Ordinal);
        var replicaText = await http.GetStringAsync($"{replica.ApiUrl}/metrics");
        Assert.Contains($"patroni_replica{scope} 1", replicaText, StringComparison.Ordinal);
        Assert.Contains($"patroni_primary{scope} 0", replicaText, StringComparison.Ordinal);
        Assert.DoesNotContain(C.Options.SuperuserPassword, leaderText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patroni_json_of_the_leader_has_the_fields_tools_read()
    {
        var primary = await C.WaitForPrimaryAsync("one primary", Deadline);
        using var doc = await C.StatusAsync(primary.Name);
        var r = doc!.RootElement;
        Assert.Equal("running", r.GetProperty("state").GetString());
        Assert.Equal("master", r.GetProperty("role").GetString());
        Assert.True(r.GetProperty("xlog").GetProperty("location").GetInt64() > 0);
        Assert.Equal(2, r.GetProperty("replication").GetArrayLength());
        Assert.Equal(C.Options.Scope, r.GetProperty("patroni").GetProperty("scope").GetString());
    }

    [Fact]
    public async Task Real_patronictl_lists_the_cluster_with_roles_states_timeline_and_lag()
    {
        var primary = await C.WaitForPrimaryAsync("one primary", Deadline);
        // Replicas publish their position every loop_wait: wait until patronictl shows them caught up.
        JsonElement[] rows = [];
        await Wait.UntilAsync("patronictl lists one leader and two running replicas with lag 0", async () =>
        {
            rows = await PatronictlListAsync();
            return rows.Length == 3
                && rows.Count(r => r.GetProperty("Role").GetString() == "Leader") == 1
                && rows.Count(r => r.GetProperty("Role").GetString() == "Replica" && r.TryGetProperty("Lag in MB", out var lag) && lag.GetDouble() == 0) == 2;
        }, Deadline);
        var leaderRow = rows.Single(r => r.GetProperty("Role").GetString() == "Leader");
        Assert.Equal(primary.Name, leaderRow.GetProperty("Member").GetString());
        Assert.All(rows, r => Assert.Equal("running", r.GetProperty("State").GetString()));
        Assert.All(rows, r => Assert.Equal(1, r.GetProperty("TL").GetInt32()));
        Assert.All(rows, r => Assert.Equal(C.Options.Scope, r.GetProperty("Cluster").GetString()));
    }

    async Task<JsonElement[]> PatronictlListAsync()
    {
        var config = C.WritePatronictlConfig();
        // A home without ~/.config/patroni/patronictl.yaml, so only our file counts.
        var r = await Cli.RunAsync("patronictl", ["-c", config, "list", C.Options.Scope, "--format", "json"],
            new Dictionary<string, string?> { ["HOME"] = C.Options.Root });
        Assert.True(r.ExitCode == 0, $"patronictl failed: {r.Errors}");
        var output = r.Output;
        return JsonDocument.Parse(output).RootElement.EnumerateArray().ToArray();
    }
}
