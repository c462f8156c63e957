using System.Text.Json;
using Appliance.Lab;
using Appliance.TestKit;
using Tmds.Linux;

namespace Appliance.Cli.Tests;

/// <summary>
/// The unsafe commands as runbooks against a real cluster, through the agent's REST API (Patroni
/// 3.0.2's unsafe endpoints). Skipped until the agent serves them: remove <see cref="Reason"/> from
/// the attributes when it does.
/// </summary>
[Trait("needs", "agent-operations")]
public sealed class OperationsTests : IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    LocalCluster _c = null!;
    string Config => _c.Members[0].ConfigPath;

    public async Task InitializeAsync() => _c = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("ops"));
    public async Task DisposeAsync() => await _c.DisposeAsync();

    Task<Ctl.Result> CtlAsync(params string[] args) => Ctl.RunAsync(["--config", Config, .. args]);

    async Task<JsonElement> ConfigKeyAsync()
    {
        var r = await CtlAsync("show-config", "--format", "json");
        return JsonDocument.Parse(r.Output).RootElement.Clone();
    }

    [Fact]
    public async Task Switchover_to_a_named_candidate_makes_it_the_primary()
    {
        var primary = await _c.WaitForPrimaryAsync("one primary", Deadline);
        var candidate = _c.Members.First(m => m != primary);
        var r = await CtlAsync("switchover", "--leader", primary.Name, "--candidate", candidate.Name, "--force");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"Successfully switched over to \"{candidate.Name}\"", r.Output, StringComparison.Ordinal);
        await _c.WaitForPrimaryAsync($"{candidate.Name} is the primary", Deadline, p => p.Name == candidate.Name);
        var history = await CtlAsync("history", "--format", "json");
        Assert.Contains(candidate.Name, history.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_scheduled_switchover_is_accepted_listed_and_then_done()
    {
        var primary = await _c.WaitForPrimaryAsync("one primary", Deadline);
        var candidate = _c.Members.First(m => m != primary);
        var at = DateTimeOffset.Now.AddSeconds(15).ToString("yyyy-MM-dd'T'HH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture);
        var r = await CtlAsync("switchover", "--leader", primary.Name, "--candidate", candidate.Name, "--scheduled", at, "--force");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Switchover scheduled", r.Output, StringComparison.Ordinal);
        Assert.Contains("Switchover scheduled at:", (await CtlAsync("list")).Output, StringComparison.Ordinal);
        await _c.WaitForPrimaryAsync($"{candidate.Name} is the primary", Deadline, p => p.Name == candidate.Name);
    }

    [Fact]
    public async Task Failover_to_a_candidate_promotes_it()
    {
        var primary = await _c.WaitForPrimaryAsync("one primary", Deadline);
        var candidate = _c.Members.Last(m => m != primary);
        var r = await CtlAsync("failover", "--candidate", candidate.Name, "--force");
        Assert.True(r.ExitCode == 0, r.ToString());
        await _c.WaitForPrimaryAsync($"{candidate.Name} is the primary", Deadline, p => p.Name == candidate.Name);
    }

    [Fact]
    public async Task Switchover_to_a_member_that_is_not_there_is_refused_by_the_api_or_the_cli()
    {
        var primary = await _c.WaitForPrimaryAsync("one primary", Deadline);
        var r = await CtlAsync("switchover", "--leader", primary.Name, "--candidate", "db9", "--force");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("db9", r.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paused_a_killed_primary_postgres_triggers_no_failover_and_resume_restores_management()
    {
        var primary = await _c.WaitForPrimaryAsync("one primary", Deadline);
        var r = await CtlAsync("pause", "--wait");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Success: cluster management is paused", r.Output, StringComparison.Ordinal);
        Assert.Contains("Maintenance mode: on", (await CtlAsync("list")).Output, StringComparison.Ordinal);

        _c.KillPostgres(primary.Name, LibC.SIGKILL);
        // Three loop_waits and more: nobody else may take over while paused.
        for (var i = 0; i < 20; i++)
        {
            await Task.Delay(500);
            foreach (var m in _c.Members.Where(m => m != primary))
                Assert.NotEqual(200, await _c.HealthAsync(m.Name, "/primary"));
        }
        var resumed = await CtlAsync("resume", "--wait");
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.DoesNotContain("Maintenance mode", (await CtlAsync("list")).Output, StringComparison.Ordinal);
        await _c.WaitForPrimaryAsync("a primary again after resume", Deadline);
    }

    [Fact]
    public async Task Edit_config_patches_through_the_leader_and_the_change_is_in_the_config_key()
    {
        await _c.WaitForPrimaryAsync("one primary", Deadline);
        var r = await CtlAsync("edit-config", "--force", "--set", "maximum_lag_on_failover=2097152", "--pg", "work_mem=8MB");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Configuration changed", r.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("compare-and-set", r.Output, StringComparison.Ordinal);
        var config = await ConfigKeyAsync();
        Assert.Equal(2097152, config.GetProperty("maximum_lag_on_failover").GetInt64());
        Assert.Equal("8MB", config.GetProperty("postgresql").GetProperty("parameters").GetProperty("work_mem").GetString());
        var removed = await CtlAsync("edit-config", "--force", "--pg", "work_mem=null");
        Assert.Equal(0, removed.ExitCode);
        Assert.False((await ConfigKeyAsync()).GetProperty("postgresql").GetProperty("parameters").TryGetProperty("work_mem", out _));
    }

    [Fact]
    public async Task Restart_of_a_replica_restarts_its_postgres_and_it_streams_again()
    {
        var primary = await _c.WaitForPrimaryAsync("one primary", Deadline);
        var replica = _c.Members.First(m => m != primary);
        var pid = replica.PostmasterPid;
        var r = await CtlAsync("restart", replica.Name, "--force");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"Success: restart on member {replica.Name}", r.Output, StringComparison.Ordinal);
        await Wait.UntilAsync($"{replica.Name} runs a new postmaster", () => replica.PostmasterPid is { } p && p != pid, Deadline);
        await Wait.UntilAsync($"{replica.Name} is a running replica", async () => await _c.HealthAsync(replica.Name, "/replica") == 200, Deadline);
    }

    [Fact]
    public async Task Reload_answers_for_every_member()
    {
        await _c.WaitForPrimaryAsync("one primary", Deadline);
        var r = await CtlAsync("reload", "--force");
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var m in _c.Members)
            Assert.Contains($"member {m.Name}", r.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reinit_of_a_replica_with_wait_ends_with_a_streaming_replica()
    {
        var primary = await _c.WaitForPrimaryAsync("one primary", Deadline);
        var replica = _c.Members.First(m => m != primary);
        var r = await CtlAsync("reinit", replica.Name, "--force", "--wait");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"Success: reinitialize for member {replica.Name}", r.Output, StringComparison.Ordinal);
        Assert.Contains($"Reinitialize is completed on: {replica.Name}", r.Output, StringComparison.Ordinal);
        await Wait.UntilAsync($"{replica.Name} is a running replica", async () => await _c.HealthAsync(replica.Name, "/replica") == 200, Deadline);
    }

    [Fact]
    public async Task Reinit_of_the_leader_is_refused()
    {
        var primary = await _c.WaitForPrimaryAsync("one primary", Deadline);
        var r = await CtlAsync("reinit", primary.Name, "--force");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("No replica among provided members", r.Errors, StringComparison.Ordinal);
    }
}
