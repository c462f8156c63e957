using System.Text.Json;
using Appliance.Lab;
using Appliance.TestKit;

namespace Appliance.Cli.Tests;

/// <summary>One healthy cluster for the class; these tests only read it.</summary>
public sealed class ReadClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;
    public async Task InitializeAsync() => Cluster = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("read"));
    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>The read commands against a real three-node cluster, checked against what the real patronictl says about it.</summary>
public sealed class ReadCommandsTests(ReadClusterFixture f) : IClassFixture<ReadClusterFixture>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    LocalCluster C => f.Cluster;
    string Config => C.Members[0].ConfigPath;

    /// <summary>Replicas publish their position every loop_wait: wait until both show lag 0.</summary>
    async Task<JsonElement[]> CaughtUpRowsAsync()
    {
        JsonElement[] rows = [];
        await Wait.UntilAsync("appliancectl lists one leader and two replicas with lag 0", async () =>
        {
            var r = await Ctl.RunAsync("--config", Config, "list", "--format", "json");
            if (r.ExitCode != 0) throw new InvalidOperationException(r.ToString());
            rows = JsonDocument.Parse(r.Output).RootElement.EnumerateArray().ToArray();
            return rows.Length == 3 && rows.Count(x => x.GetProperty("Role").GetString() == "Replica" && x.TryGetProperty("Lag in MB", out var l) && l.GetInt64() == 0) == 2;
        }, Deadline);
        return rows;
    }

    [Fact]
    public async Task List_json_has_patronictls_keys_and_the_same_rows_as_the_real_patronictl()
    {
        var primary = await C.WaitForPrimaryAsync("one primary", Deadline);
        var ours = await CaughtUpRowsAsync();
        var leader = ours.Single(r => r.GetProperty("Role").GetString() == "Leader");
        Assert.Equal(primary.Name, leader.GetProperty("Member").GetString());
        Assert.False(leader.TryGetProperty("Lag in MB", out _), "the leader's row has no lag, as patronictl's");
        foreach (var r in ours)
        {
            Assert.Equal(["Cluster", "Member", "Host", "Role", "State", "TL", "Lag in MB"],
                r.EnumerateObject().Select(p => p.Name).Concat(r.TryGetProperty("Lag in MB", out _) ? [] : new[] { "Lag in MB" }));
            Assert.Equal(C.Options.Scope, r.GetProperty("Cluster").GetString());
            Assert.Equal("running", r.GetProperty("State").GetString());
            Assert.Equal(1, r.GetProperty("TL").GetInt32());
            Assert.Equal($"127.0.0.1:{C[r.GetProperty("Member").GetString()!].PgPort}", r.GetProperty("Host").GetString());
        }

        var theirs = await Ctl.PatronictlAsync(C.WritePatronictlConfig(), C.Options.Root, "list", C.Options.Scope, "--format", "json");
        Assert.True(theirs.ExitCode == 0, theirs.ToString());
        var ourJson = (await Ctl.RunAsync("--config", Config, "list", "--format", "json")).Output.Trim();
        // Lag can move between the two reads; roles, states, hosts and timelines cannot.
        Assert.Equal(Normalize(theirs.Output), Normalize(ourJson));
    }

    static string Normalize(string json) => string.Join("\n", JsonDocument.Parse(json).RootElement.EnumerateArray()
        .Select(r => string.Join(",", r.EnumerateObject().Where(p => p.Name != "Lag in MB").Select(p => $"{p.Name}={p.Value.GetRawText()}"))));

    [Fact]
    public async Task List_prints_patronictls_table_with_the_cluster_title()
    {
        var primary = await C.WaitForPrimaryAsync("one primary", Deadline);
        await CaughtUpRowsAsync();
        var r = await Ctl.RunAsync("--config", Config, "list");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = r.Output.TrimEnd().Split('\n');
        Assert.StartsWith($"+ Cluster: {C.Options.Scope} ", lines[0], StringComparison.Ordinal);
        Assert.Matches(@"^\| Member +\| Host +\| Role +\| State +\| TL \| Lag in MB \|$", lines[1]);
        Assert.Equal(3 + 4, lines.Length); // title rule, header, rule, three members, rule
        Assert.Matches($@"^\| {primary.Name} +\| 127\.0\.0\.1:{primary.PgPort} +\| Leader +\| running +\|  1 \| +\|$", lines.Single(l => l.StartsWith($"| {primary.Name} ", StringComparison.Ordinal)));
        Assert.Equal(2, lines.Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\| Replica \| running \|  1 \| +0 \|$")));

        // The same table the real patronictl prints, when nothing moved in between.
        var theirs = await Ctl.PatronictlAsync(C.WritePatronictlConfig(), C.Options.Root, "list", C.Options.Scope);
        Assert.Equal(theirs.Output.TrimEnd(), r.Output.TrimEnd());
    }

    [Fact]
    public async Task Topology_puts_the_replicas_under_the_leader()
    {
        var primary = await C.WaitForPrimaryAsync("one primary", Deadline);
        await CaughtUpRowsAsync();
        var r = await Ctl.RunAsync("--config", Config, "topology");
        Assert.True(r.ExitCode == 0, r.ToString());
        var rows = r.Output.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).Skip(1).ToList();
        Assert.StartsWith($"| {primary.Name} ", rows[0], StringComparison.Ordinal);
        Assert.All(rows.Skip(1), l => Assert.StartsWith("| + db", l, StringComparison.Ordinal));
        var theirs = await Ctl.PatronictlAsync(C.WritePatronictlConfig(), C.Options.Root, "topology", C.Options.Scope);
        Assert.Equal(theirs.Output.TrimEnd(), r.Output.TrimEnd());
    }

    [Fact]
    public async Task History_and_show_config_match_the_real_patronictl()
    {
        await C.WaitForPrimaryAsync("one primary", Deadline);
        var patronictl = C.WritePatronictlConfig();
        foreach (var command in new[] { "history", "show-config" })
        {
            var ours = await Ctl.RunAsync("--config", Config, command);
            Assert.True(ours.ExitCode == 0, ours.ToString());
            var theirs = await Ctl.PatronictlAsync(patronictl, C.Options.Root, command, C.Options.Scope);
            Assert.Equal(theirs.Output, ours.Output);
        }
        var json = await Ctl.RunAsync("--config", Config, "show-config", "--format", "json");
        Assert.Equal(2, JsonDocument.Parse(json.Output).RootElement.GetProperty("loop_wait").GetInt32());
    }

    [Fact]
    public async Task A_positional_cluster_name_and_dcs_url_override_the_configuration()
    {
        await C.WaitForPrimaryAsync("one primary", Deadline);
        var r = await Ctl.RunAsync("--config", Config, "--dcs-url", C.Etcd.Endpoint, "list", "no-such-cluster", "--format", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("[]", r.Output.Trim());
        var bad = await Ctl.RunAsync("--config", Config, "--dcs-url", "http://127.0.0.1:1", "list");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("http://127.0.0.1:1", bad.Errors, StringComparison.Ordinal);
    }
}
