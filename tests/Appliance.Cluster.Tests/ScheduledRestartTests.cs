using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Appliance.Lab;
using Appliance.TestKit;

namespace Appliance.Cluster.Tests;

/// <summary>Restarts scheduled a few seconds ahead, through our REST API and through the real patronictl; a cancelled one does not run.</summary>
public sealed class ScheduledRestartTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    static async Task<(int Code, string Body)> SendAsync(LabMember m, HttpMethod method, string path, string? json = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var req = new HttpRequestMessage(method, $"{m.ApiUrl}{path}");
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        req.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/plain"));
        using var resp = await http.SendAsync(req);
        return ((int)resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    static async Task<string?> StartTimeAsync(LocalCluster c, LabMember m)
    {
        using var doc = await c.StatusAsync(m.Name);
        return doc?.RootElement.TryGetProperty("postmaster_start_time", out var t) == true ? t.GetString() : null;
    }

    static async Task<string?> ScheduledAsync(LocalCluster c, LabMember m)
    {
        using var doc = await c.StatusAsync(m.Name);
        return doc?.RootElement.TryGetProperty("scheduled_restart", out var s) == true ? s.GetProperty("schedule").GetString() : null;
    }

    /// <summary>A moment this many seconds ahead, in whole seconds: what <see cref="Iso"/> sends is exactly it.</summary>
    static DateTimeOffset Ahead(int seconds)
    {
        var t = DateTimeOffset.UtcNow.AddSeconds(seconds);
        return t.AddTicks(-(t.Ticks % TimeSpan.TicksPerSecond));
    }

    static string Iso(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss+00:00", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_scheduled_restart_runs_at_its_moment_and_a_cancelled_one_does_not()
    {
        await using var c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("sched"));
        var leader = await c.WaitForPrimaryAsync("a primary", Deadline);
        var replica = c.Members.First(m => m != leader);
        var cancelled = c.Members.First(m => m != leader && m != replica);
        var before = new Dictionary<LabMember, string>();
        foreach (var m in c.Members)
            before[m] = await Wait.ForAsync($"{m.Name} reports its postmaster start time", () => StartTimeAsync(c, m), Deadline);

        // Patroni's refusals.
        Assert.Equal((404, "no restarts are scheduled"), await SendAsync(replica, HttpMethod.Delete, "/restart"));
        Assert.Equal((422, "Cannot schedule restart in the past"),
            await SendAsync(replica, HttpMethod.Post, "/restart", $$"""{"schedule":"{{Iso(DateTimeOffset.UtcNow.AddMinutes(-1))}}"}"""));
        Assert.Equal((400, "Timezone information is mandatory for the scheduled restart"),
            await SendAsync(replica, HttpMethod.Post, "/restart", """{"schedule":"2099-01-01T03:00:00"}"""));

        // Through our REST API: a replica, a few seconds ahead; one at a time.
        var at = Ahead(6);
        Assert.Equal((202, "Restart scheduled"), await SendAsync(replica, HttpMethod.Post, "/restart", $$"""{"schedule":"{{Iso(at)}}","role":"replica"}"""));
        Assert.Equal((409, "Another restart is already scheduled"),
            await SendAsync(replica, HttpMethod.Post, "/restart", $$"""{"schedule":"{{Iso(at.AddMinutes(5))}}"}"""));
        Assert.Equal(Iso(at), await ScheduledAsync(c, replica));
        await Wait.UntilAsync($"{replica.Name}'s PostgreSQL restarted (a new postmaster start time)",
            async () => await StartTimeAsync(c, replica) is { } now && now != before[replica], Deadline);
        Assert.True(DateTimeOffset.UtcNow >= at, "restarted before its moment");
        await Wait.UntilAsync($"{replica.Name} no longer shows the restart it ran", async () => await ScheduledAsync(c, replica) is null, Deadline);
        Assert.True(await c.ScalarAsync<bool>(replica.Name, "SELECT pg_is_in_recovery()"), $"{replica.Name} came back as a replica");

        // One scheduled, then cancelled; the leader's through the real patronictl, due after the cancelled one.
        var cancelAt = Ahead(15);
        Assert.Equal((202, "Restart scheduled"), await SendAsync(cancelled, HttpMethod.Post, "/restart", $$"""{"schedule":"{{Iso(cancelAt)}}"}"""));
        var leaderAt = cancelAt.AddSeconds(10);
        var patronictl = c.WritePatronictlConfig();
        var env = new Dictionary<string, string?> { ["HOME"] = c.Options.Root };
        var r = await Cli.RunAsync("patronictl", ["-c", patronictl, "restart", c.Options.Scope, leader.Name, "--scheduled", Iso(leaderAt), "--force"], env);
        Assert.True(r.ExitCode == 0, $"patronictl restart failed: {r.Output}\n{r.Errors}");
        Assert.Contains($"Success: restart scheduled on member {leader.Name}", r.Output, StringComparison.Ordinal);

        // The member key carries it from the node's next cycle on: wait for patronictl to show it.
        await Wait.UntilAsync("patronictl list shows the leader's scheduled restart", async () =>
        {
            var list = await Cli.RunAsync("patronictl", ["-c", patronictl, "list"], env);
            Assert.True(list.ExitCode == 0, $"patronictl list failed: {list.Output}\n{list.Errors}");
            return list.Output.Contains("Scheduled restart", StringComparison.Ordinal) && list.Output.Contains(Iso(leaderAt), StringComparison.Ordinal);
        }, Deadline);

        Assert.Equal((200, "scheduled restart deleted"), await SendAsync(cancelled, HttpMethod.Delete, "/restart"));
        Assert.Null(await ScheduledAsync(c, cancelled));

        await Wait.UntilAsync($"{leader.Name}'s PostgreSQL restarted at {Iso(leaderAt)}",
            async () => await StartTimeAsync(c, leader) is { } now && now != before[leader], Deadline);
        Assert.True(DateTimeOffset.UtcNow >= leaderAt, "restarted before its moment");
        Assert.Equal(leader, await c.WaitForPrimaryAsync($"{leader.Name} is the primary again, still holding the key", Deadline));
        // The leader's moment came after the cancelled one's: had it stayed, it would have run by now.
        Assert.Equal(before[cancelled], await StartTimeAsync(c, cancelled));
        Assert.DoesNotContain("running the scheduled restart", File.ReadAllText(cancelled.AgentLog), StringComparison.Ordinal);
    }
}
