using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Appliance.Lab;
using Appliance.TestKit;
using Tmds.Linux;

namespace Appliance.Cluster.Tests;

/// <summary>The operator's planned work, as runbooks: switchover and failover (our REST API, the real patronictl), pause, and the API's authentication.</summary>
public sealed class OperationsTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    static async Task<(int Code, string Body)> SendAsync(LabMember m, HttpMethod method, string path, string? json = null, (string, string)? auth = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var req = new HttpRequestMessage(method, $"{m.ApiUrl}{path}");
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (auth is var (u, p)) req.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{u}:{p}")));
        using var resp = await http.SendAsync(req);
        return ((int)resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    static async Task<bool> StreamsFromAsync(LocalCluster c, string primary, string replica)
        => await c.ScalarAsync<long>(primary, $"SELECT count(*) FROM pg_stat_replication WHERE application_name = '{replica}' AND state = 'streaming'") == 1;

    [Fact]
    public async Task Switchover_through_the_rest_api_and_through_patronictl_moves_the_leader_and_keeps_every_row()
    {
        await using var c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("switch"));
        var old = await c.WaitForPrimaryAsync("a primary", Deadline);
        var candidate = c.Members.First(m => m != old);
        await c.ExecAsync(old.Name, "CREATE TABLE kept(v int); INSERT INTO kept VALUES (1)");

        Assert.Equal((400, "Failover could be performed only to a specific candidate"), await SendAsync(old, HttpMethod.Post, "/failover", "{}"));
        Assert.Equal((412, "leader name does not match"), await SendAsync(old, HttpMethod.Post, "/switchover", $$"""{"leader":"{{candidate.Name}}"}"""));
        Assert.Equal((412, "candidate does not exists"), await SendAsync(old, HttpMethod.Post, "/switchover", $$"""{"leader":"{{old.Name}}","candidate":"nobody"}"""));

        var (code, body) = await SendAsync(old, HttpMethod.Post, "/switchover", $$"""{"leader":"{{old.Name}}","candidate":"{{candidate.Name}}"}""");
        Assert.Equal((200, $"Successfully switched over to \"{candidate.Name}\""), (code, body));
        Assert.Equal(candidate, await c.WaitForPrimaryAsync($"{candidate.Name} is the primary", Deadline));
        await Wait.UntilAsync($"{old.Name} streams from {candidate.Name} (a clean switchover needs no re-clone)",
            async () => await StreamsFromAsync(c, candidate.Name, old.Name), Deadline);
        Assert.Equal(1, await c.ScalarAsync<long>(candidate.Name, "SELECT count(*) FROM kept"));
        Assert.DoesNotContain("Reclone", File.ReadAllText(old.AgentLog), StringComparison.Ordinal);

        // The real patronictl from Debian's patroni package, back the other way.
        var r = await Cli.RunAsync("patronictl", ["-c", c.WritePatronictlConfig(), "switchover", c.Options.Scope,
            "--leader", candidate.Name, "--candidate", old.Name, "--force"], new Dictionary<string, string?> { ["HOME"] = c.Options.Root });
        Assert.True(r.ExitCode == 0, $"patronictl switchover failed: {r.Output}\n{r.Errors}");
        Assert.Equal(old, await c.WaitForPrimaryAsync($"{old.Name} is the primary again", Deadline, p => p == old));
        await Wait.UntilAsync($"{candidate.Name} follows {old.Name}", async () => await StreamsFromAsync(c, old.Name, candidate.Name), Deadline);
    }

    [Fact]
    public async Task Failover_through_patronictl_promotes_the_candidate_and_the_old_primary_streams_from_it()
    {
        await using var c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("pfail"));
        var old = await c.WaitForPrimaryAsync("a primary", Deadline);
        var candidate = c.Members.First(m => m != old);
        await c.ExecAsync(old.Name, "CREATE TABLE kept(v int); INSERT INTO kept VALUES (1)");

        // The real patronictl: it posts {"leader": <the current leader>, "candidate": ..., "scheduled_at": null}
        // to the leader's /failover and exits 0 whatever the answer, so the answer is checked in its output.
        var r = await Cli.RunAsync("patronictl", ["-c", c.WritePatronictlConfig(), "failover", c.Options.Scope,
            "--candidate", candidate.Name, "--force"], new Dictionary<string, string?> { ["HOME"] = c.Options.Root });
        Assert.True(r.ExitCode == 0, $"patronictl failover failed: {r.Output}\n{r.Errors}");
        Assert.Contains($"Successfully failed over to \"{candidate.Name}\"", r.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("falling back to DCS", r.Output, StringComparison.Ordinal);

        Assert.Equal(candidate, await c.WaitForPrimaryAsync($"{candidate.Name} is the primary", Deadline, p => p == candidate));
        foreach (var m in c.Members.Where(m => m != candidate))
            await Wait.UntilAsync($"{m.Name} streams from {candidate.Name}", async () => await StreamsFromAsync(c, candidate.Name, m.Name), Deadline);
        Assert.True(await c.ScalarAsync<bool>(old.Name, "SELECT pg_is_in_recovery()"), $"{old.Name} rejoined as a replica");
        Assert.Equal(1, await c.ScalarAsync<long>(candidate.Name, "SELECT count(*) FROM kept"));
    }

    [Fact]
    public async Task While_paused_a_dead_primary_is_not_failed_over_and_resume_brings_a_primary_back()
    {
        var options = ClusterFactory.Options("pause");
        await using var c = await ClusterFactory.StartHealthyAsync(options);
        var leader = await c.WaitForPrimaryAsync("a primary", Deadline);

        Assert.Equal(200, (await SendAsync(leader, HttpMethod.Patch, "/config", """{"pause":true}""")).Code);
        foreach (var m in c.Members)
            await Wait.UntilAsync($"{m.Name} reports the pause", async () =>
            {
                using var doc = await c.StatusAsync(m.Name);
                return doc?.RootElement.TryGetProperty("pause", out var p) == true && p.GetBoolean();
            }, Deadline);

        c.KillPostgres(leader.Name, LibC.SIGKILL);
        await Wait.UntilAsync($"{leader.Name}'s PostgreSQL is gone", () => leader.PostmasterPid is null, Deadline);
        // Three lease lifetimes without any node promoting and without the dead PostgreSQL restarted.
        var watched = System.Diagnostics.Stopwatch.StartNew();
        while (watched.Elapsed < TimeSpan.FromSeconds(3 * options.Ttl))
        {
            Assert.Null(leader.PostmasterPid);
            foreach (var m in c.Members.Where(m => m != leader))
                Assert.True(await c.ScalarAsync<bool>(m.Name, "SELECT pg_is_in_recovery()"), $"{m.Name} was promoted during the pause");
            await Task.Delay(500);
        }
        Assert.Null(leader.PostmasterPid);

        var replica = c.Members.First(m => m != leader);
        Assert.Equal(200, (await SendAsync(replica, HttpMethod.Patch, "/config", """{"pause":null}""")).Code);
        await c.WaitForPrimaryAsync("a primary after resume", Deadline);
    }

    [Fact]
    public async Task Unsafe_endpoints_refuse_without_credentials_and_change_nothing()
    {
        var options = ClusterFactory.Options("auth") with { RestApiCredentials = ("admin", "s3cret-api") };
        await using var c = await ClusterFactory.StartHealthyAsync(options);
        var leader = await c.WaitForPrimaryAsync("a primary", Deadline);
        var other = c.Members.First(m => m != leader);
        var switchover = $$"""{"leader":"{{leader.Name}}","candidate":"{{other.Name}}"}""";

        Assert.Equal(401, (await SendAsync(leader, HttpMethod.Post, "/switchover", switchover)).Code);
        Assert.Equal(401, (await SendAsync(leader, HttpMethod.Post, "/switchover", switchover, ("admin", "wrong"))).Code);
        Assert.Equal(401, (await SendAsync(leader, HttpMethod.Patch, "/config", """{"pause":true}""")).Code);
        Assert.Equal(401, (await SendAsync(leader, HttpMethod.Delete, "/switchover")).Code);
        Assert.Equal(200, (await SendAsync(leader, HttpMethod.Get, "/config")).Code);
        Assert.Equal(leader, await c.PrimaryAsync());
        using (var doc = await c.StatusAsync(leader.Name))
            Assert.False(doc!.RootElement.TryGetProperty("pause", out _));

        var (code, body) = await SendAsync(leader, HttpMethod.Patch, "/config", """{"pause":true}""", ("admin", "s3cret-api"));
        Assert.Equal(200, code);
        Assert.Contains("\"pause\":true", body, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-api", File.ReadAllText(leader.AgentLog), StringComparison.Ordinal);
    }
}
