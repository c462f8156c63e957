using Appliance.Ha;
using Appliance.Node;

namespace Appliance.Core.Tests.Ha;

/// <summary>When a scheduled restart runs, waits or is dropped: one row per rule, a fixed clock.</summary>
public class RestartScheduleTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    static readonly DateTimeOffset Started = Now.AddHours(-1);
    static readonly TimeSpan LoopWait = TimeSpan.FromSeconds(10);
    static readonly PostgresState Primary = new()
    {
        DataDirInitialized = true, PostmasterRunning = true, Accepting = true, InRecovery = false,
        ServerVersion = 150004, PostmasterStartTime = Started,
    };
    static readonly PostgresState Replica = Primary with { InRecovery = true };

    static ScheduledRestart At(double secondsFromNow) => new() { Schedule = Now.AddSeconds(secondsFromNow), PostmasterStartTime = Started };

    static RestartDecision Evaluate(ScheduledRestart r, PostgresState? pg = null, bool paused = false, bool leader = true, bool busy = false)
        => RestartSchedule.Evaluate(r, pg ?? Primary, paused, leader, busy, LoopWait, Now);

    static void Expect(RestartDecision d, RestartVerdict verdict, string reasonPart)
    {
        Assert.Equal(verdict, d.Verdict);
        Assert.Contains(reasonPart, d.Reason, StringComparison.Ordinal);
    }

    [Fact] public void Waits_until_its_moment() => Expect(Evaluate(At(1)), RestartVerdict.Wait, "in 1 seconds");
    [Fact] public void Runs_at_its_moment() => Expect(Evaluate(At(0)), RestartVerdict.Run, "scheduled restart");
    [Fact] public void Runs_a_little_late() => Expect(Evaluate(At(-15)), RestartVerdict.Run, "scheduled restart");
    [Fact] public void Drops_a_stale_one_more_than_one_and_a_half_loop_waits_late() => Expect(Evaluate(At(-15.5)), RestartVerdict.Drop, "stale");
    [Fact] public void Waits_while_paused_even_when_due() => Expect(Evaluate(At(-1), paused: true), RestartVerdict.Wait, "paused");
    [Fact] public void Waits_while_another_action_runs() => Expect(Evaluate(At(-1), busy: true), RestartVerdict.Wait, "in progress");
    [Fact] public void Waits_while_the_cluster_has_no_leader() => Expect(Evaluate(At(-1), leader: false), RestartVerdict.Wait, "no leader");
    [Fact] public void Waits_while_postgres_is_down() => Expect(Evaluate(At(-1), Primary with { PostmasterRunning = false, Accepting = false }), RestartVerdict.Wait, "not running");

    [Fact]
    public void Is_moot_once_postgres_restarted_since_it_was_scheduled()
        => Expect(Evaluate(At(60), Primary with { PostmasterStartTime = Started.AddMinutes(30) }), RestartVerdict.Drop, "already happened");

    [Fact]
    public void Without_a_start_time_at_scheduling_a_restart_since_does_not_drop_it()
        => Expect(Evaluate(At(0) with { PostmasterStartTime = null }, Primary with { PostmasterStartTime = Now }), RestartVerdict.Run, "scheduled");

    [Theory]
    [InlineData("replica", true, RestartVerdict.Drop)]
    [InlineData("replica", false, RestartVerdict.Run)]
    [InlineData("master", true, RestartVerdict.Run)]
    [InlineData("primary", true, RestartVerdict.Run)]
    [InlineData("primary", false, RestartVerdict.Drop)]
    public void Runs_only_in_the_role_asked_for(string role, bool primary, RestartVerdict verdict)
        => Assert.Equal(verdict, Evaluate(At(0) with { Role = role }, primary ? Primary : Replica).Verdict);

    [Theory]
    [InlineData("15.5", RestartVerdict.Run)]    // 150005 > 150004: an older server restarts (onto new binaries)
    [InlineData("15.4", RestartVerdict.Drop)]
    [InlineData("14.9", RestartVerdict.Drop)]
    [InlineData("16.0", RestartVerdict.Run)]
    public void Runs_only_when_the_server_is_older_than_the_version_asked_for(string version, RestartVerdict verdict)
        => Assert.Equal(verdict, Evaluate(At(0) with { PostgresVersion = version }).Verdict);

    [Fact]
    public void Restart_pending_runs_only_when_a_setting_waits_for_a_restart()
    {
        Expect(Evaluate(At(0) with { RestartPending = true }), RestartVerdict.Drop, "pending restart flag is not set");
        Assert.Equal(RestartVerdict.Run, Evaluate(At(0) with { RestartPending = true }, Primary with { PendingRestartSettings = [new("max_files_per_process", "1000", "900")] }).Verdict);
    }

    [Theory]
    [InlineData("9.5.3", 90503, null)]
    [InlineData("10.1", 100001, null)]
    [InlineData("15.4", 150004, null)]
    [InlineData("15", null, "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 15")]
    [InlineData("9.6", null, "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 9.6")]
    [InlineData("a.b.c", null, "Invalid PostgreSQL version: a.b.c")]
    public void Parses_versions_as_patroni_does(string text, int? expected, string? error)
    {
        Assert.Equal(expected, RestartSchedule.VersionToInt(text, out var why));
        Assert.Equal(error, why);
    }
}
