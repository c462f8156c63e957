using System.Text;
using Appliance.Lab;
using Appliance.TestKit;

namespace Appliance.Cluster.Tests;

/// <summary>The runbook of a cluster-wide setting: one PATCH /config, and every node's PostgreSQL takes it.</summary>
public sealed class DynamicConfigTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    static async Task<(int Code, string Body)> PatchConfigAsync(LabMember m, string json)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var req = new HttpRequestMessage(HttpMethod.Patch, $"{m.ApiUrl}/config") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var resp = await http.SendAsync(req);
        return ((int)resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    static async Task<bool> PendingRestartAsync(LocalCluster c, string member)
    {
        using var doc = await c.StatusAsync(member);
        return doc?.RootElement.TryGetProperty("pending_restart", out var p) == true && p.GetBoolean();
    }

    [Fact]
    public async Task A_patched_parameter_reaches_every_node_and_a_restart_only_one_is_reported_pending()
    {
        await using var c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("dyncfg") with { Members = 2 });
        var leader = await c.WaitForPrimaryAsync("a primary", Deadline);
        var replica = c.Members.First(m => m != leader);

        // Through the replica's API: any node writes the key; every node's loop applies it.
        var (code, body) = await PatchConfigAsync(replica, """{"postgresql":{"parameters":{"work_mem":"7MB"}}}""");
        Assert.True(code == 200, body);
        foreach (var m in c.Members)
            await Wait.UntilAsync($"{m.Name}'s PostgreSQL runs with work_mem 7MB", async () =>
            {
                try { return await c.ScalarAsync<string>(m.Name, "SHOW work_mem") == "7MB"; }
                catch (Npgsql.NpgsqlException) { return false; }
            }, Deadline);
        foreach (var m in c.Members) Assert.False(await PendingRestartAsync(c, m.Name), $"{m.Name} reports a pending restart for a reloadable setting");

        // A restart-only setting (a JSON number, as Patroni writes them): written, reloaded, reported pending.
        (code, body) = await PatchConfigAsync(leader, """{"postgresql":{"parameters":{"max_files_per_process":900}}}""");
        Assert.True(code == 200, body);
        foreach (var m in c.Members)
            await Wait.UntilAsync($"{m.Name} reports pending_restart in /patroni", () => PendingRestartAsync(c, m.Name), Deadline);
        foreach (var m in c.Members)
        {
            Assert.Equal("1000", await c.ScalarAsync<string>(m.Name, "SHOW max_files_per_process"));
            // The API probes afresh; the loop logs the reason on its next cycle.
            await Wait.UntilAsync($"{m.Name}'s agent logs which setting needs the restart",
                () => File.ReadAllText(m.AgentLog).Contains("PostgreSQL needs a restart to apply: max_files_per_process (1000 -> 900)", StringComparison.Ordinal), Deadline);
        }

        // patronictl list reads the member keys: its Pending restart column shows the star.
        var list = await Cli.RunAsync("patronictl", ["-c", c.WritePatronictlConfig(), "list", c.Options.Scope, "--format", "json"],
            new Dictionary<string, string?> { ["HOME"] = c.Options.Root });
        Assert.True(list.ExitCode == 0, $"patronictl list failed: {list.Output}\n{list.Errors}");
        using (var doc = System.Text.Json.JsonDocument.Parse(list.Output))
            Assert.All(doc.RootElement.EnumerateArray(), m => Assert.Equal("*", m.GetProperty("Pending restart").GetString()));

        // POST /restart with restart_pending restarts the replica, which applies the setting and clears the flag.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        using var resp = await http.PostAsync($"{replica.ApiUrl}/restart", new StringContent("""{"restart_pending":true}""", Encoding.UTF8, "application/json"));
        Assert.True(resp.IsSuccessStatusCode, await resp.Content.ReadAsStringAsync());
        await Wait.UntilAsync($"{replica.Name} no longer reports pending_restart", async () => !await PendingRestartAsync(c, replica.Name), Deadline);
        Assert.Equal("900", await c.ScalarAsync<string>(replica.Name, "SHOW max_files_per_process"));
        Assert.True(await PendingRestartAsync(c, leader.Name));
    }
}
