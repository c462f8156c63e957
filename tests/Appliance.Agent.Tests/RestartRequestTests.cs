using System.Text.Json;
using Appliance.Agent.Api;
using Appliance.Agent.Ha;
using Appliance.Cluster;
using Appliance.Ha;
using Appliance.Node;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Agent.Tests;

/// <summary><c>POST /restart</c>'s body checks and the scheduled restart's published shapes, with Patroni 3.0.2's texts and codes.</summary>
public class RestartRequestTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    static (RestartRequest? Request, int Code, string Error) Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return RestartRequest.Parse(doc.RootElement.Clone(), Now);
    }

    [Theory]
    [InlineData("""{"schedule":"2026-11-26T11:59:00+00:00"}""", 422, "Cannot schedule restart in the past")]
    [InlineData("""{"schedule":"2026-11-26T13:00:00"}""", 400, "Timezone information is mandatory for the scheduled restart")]
    [InlineData("""{"schedule":"tomorrow-ish"}""", 422, "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601")]
    [InlineData("""{"role":"leader"}""", 400, "PostgreSQL role should be either primary or replica")]
    [InlineData("""{"postgres_version":"15"}""", 400, "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 15")]
    [InlineData("""{"timeout":0}""", 400, "Timeout should be a positive number of seconds")]
    [InlineData("""{"timeout":"soon"}""", 400, "Timeout should be a positive number of seconds")]
    [InlineData("""{"when":"now"}""", 400, "Unknown filter for the scheduled restart: when")]
    // Keys are checked in the order given: the first bad one answers.
    [InlineData("""{"role":"x","when":"now"}""", 400, "PostgreSQL role should be either primary or replica")]
    public void Refuses_what_patroni_refuses(string body, int code, string error)
        => Assert.Equal((null, code, error), Parse(body));

    [Fact]
    public void Takes_a_schedule_with_its_conditions()
    {
        var (r, _, _) = Parse("""{"schedule":"2026-11-26T14:30:00+02:00","role":"replica","postgres_version":"15.9","restart_pending":true,"timeout":"2min"}""");
        Assert.Equal(new RestartRequest
        {
            Schedule = new DateTimeOffset(2026, 11, 26, 14, 30, 0, TimeSpan.FromHours(2)),
            Role = "replica", PostgresVersion = "15.9", RestartPending = true, Timeout = 120,
        }, r);
        Assert.Equal(TimeSpan.FromHours(2), r!.Schedule!.Value.Offset);
    }

    [Fact]
    public void No_body_is_an_unconditional_restart_now()
        => Assert.Equal(new RestartRequest(), RestartRequest.Parse(null, Now).Request);

    [Fact]
    public void Keeps_one_scheduled_restart_at_a_time()
    {
        var s = new RestartScheduler(NullLogger<RestartScheduler>.Instance);
        var changed = s.Changed;
        Assert.True(s.TrySchedule(new ScheduledRestart { Schedule = Now.AddMinutes(5) }));
        Assert.True(changed.IsCompleted);
        Assert.False(s.TrySchedule(new ScheduledRestart { Schedule = Now.AddMinutes(9) }));
        Assert.Equal(Now.AddMinutes(5), s.Current!.Schedule);
        Assert.Equal(TimeSpan.FromMinutes(5), s.DueIn(Now));
        Assert.True(s.Delete());
        Assert.False(s.Delete());
        Assert.Null(s.Published);
    }

    [Fact]
    public void Publishes_patronis_shape_in_the_member_key_the_cluster_and_the_node_status()
    {
        var s = new RestartScheduler(NullLogger<RestartScheduler>.Instance);
        var started = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero).AddTicks(1234560);
        s.TrySchedule(new ScheduledRestart
        {
            Schedule = new DateTimeOffset(2026, 11, 26, 14, 30, 0, TimeSpan.FromHours(2)),
            PostgresVersion = "15.9", PostmasterStartTime = started,
        });
        var member = new MemberData { State = "running", Role = "master", ScheduledRestart = s.Published };
        var json = member.ToJson();
        Assert.Contains("""
            "scheduled_restart":{"schedule":"2026-11-26T14:30:00+02:00","postgres_version":"15.9","postmaster_start_time":"2026-11-26 10:00:00.123456+00:00"}
            """, json, StringComparison.Ordinal);

        var cluster = new ClusterSnapshot { Members = [new Member("db1", member)], Leader = new LeaderLock("db1", 1, 1) };
        using var clusterJson = JsonDocument.Parse(StatusJson.Cluster(cluster));
        var shown = clusterJson.RootElement.GetProperty("members")[0].GetProperty("scheduled_restart");
        Assert.Equal("2026-11-26T14:30:00+02:00", shown.GetProperty("schedule").GetString());
        Assert.True(shown.TryGetProperty("postmaster_start_time", out _));

        var pg = new PostgresState { DataDirInitialized = true, PostmasterRunning = true, Accepting = true, InRecovery = false };
        using var node = JsonDocument.Parse(StatusJson.Node(new AgentStatus { Cluster = cluster }, pg, "s", null, null, s.Published));
        Assert.Equal("""{"schedule":"2026-11-26T14:30:00+02:00","postgres_version":"15.9"}""",
            node.RootElement.GetProperty("scheduled_restart").GetRawText());
    }
}
