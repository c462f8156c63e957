using System.Text.Json;
using Appliance.Configuration;
using Appliance.Etcd;
using Appliance.TestKit;

namespace Appliance.Cli.Tests;

/// <summary>
/// A cluster written straight into a real etcd (no agents, every api_url on a closed port): the
/// edge cases a healthy lab does not show (history, lag, unknown lag, sync standby, maintenance
/// mode), compared line for line with the real patronictl, and the etcd fallbacks of the writes.
/// </summary>
public sealed class CraftedClusterTests : IDisposable
{
    readonly EtcdServer _etcd = new();
    readonly TempDir _dir = new("appl-cli-crafted");
    public void Dispose()
    {
        _etcd.Dispose();
        _dir.Dispose();
    }

    const string History = """[[1,25165984,"no recovery target specified","2026-11-26T14:43:34.479176+00:00","db2"],[2,50331856,"no recovery target specified","2026-11-26T14:44:46.083173+00:00","db1"],[3,67109000,"no recovery target specified"]]""";

    async Task<(string Ours, string Patronictl, EtcdAdmin Admin)> CraftAsync(string scope, string config)
    {
        var admin = EtcdAdmin.Create(new EtcdSection { Endpoints = [_etcd.Endpoint] }, new ClusterSection { Scope = scope, Namespace = "/service" });
        var closed = FreePorts.Next();
        string Member(string name, int port, string role, string extra) =>
            $$"""{"conn_url":"postgres://127.0.0.1:{{port}}/postgres","api_url":"http://127.0.0.1:{{closed}}/patroni","state":"running","role":"{{role}}","version":"3.0.2","timeline":4{{extra}}}""";
        var k = admin.Keys;
        foreach (var (key, value) in new[]
        {
            (k.Initialize, "7712490607480592036"),
            (k.Config, config),
            (k.Leader, "db1"),
            (k.History, History),
            (k.Status, """{"optime":100663296}"""),
            (k.Sync, """{"leader":"db1","sync_standby":"db3"}"""),
            (k.Member("db1"), Member("db1", 5432, "master", ",\"xlog_location\":100663296")),
            (k.Member("db2"), Member("db2", 5433, "replica", ",\"xlog_location\":94371840,\"pending_restart\":true")),
            (k.Member("db3"), Member("db3", 5434, "replica", ",\"xlog_location\":100663296,\"scheduled_restart\":{\"schedule\":\"2026-12-01T03:00:00+00:00\",\"postgres_version\":\"15.9\",\"postmaster_start_time\":\"2026-11-26 10:00:00.123456+00:00\"}")),
            (k.Member("db4"), Member("db4", 5435, "replica", ",\"tags\":{\"nofailover\":true}")),
        })
            Assert.True(await admin.CompareAndSetAsync(key, 0, value, CancellationToken.None), key);

        var ours = _dir.Sub($"{scope}.toml");
        await File.WriteAllTextAsync(ours, $"[cluster]\nscope = \"{scope}\"\n[etcd]\nendpoints = [\"{_etcd.Endpoint}\"]\n");
        var theirs = _dir.Sub($"{scope}.yaml");
        await File.WriteAllTextAsync(theirs, $"scope: {scope}\nnamespace: /service/\netcd3:\n  hosts: 127.0.0.1:{_etcd.ClientPort}\n");
        return (ours, theirs, admin);
    }

    const string Config = """{"ttl":30,"loop_wait":10,"retry_timeout":10,"maximum_lag_on_failover":1048576,"pause":true,"postgresql":{"use_pg_rewind":true,"parameters":{"hot_standby":"on","max_connections":100,"wal_keep_size":"256MB","archive_command":"","log_line_prefix":"%t [%p]: ","work_mem":"4MB"}},"tags_list":["a","b"]}""";

    [Theory]
    [InlineData("list")]
    [InlineData("topology")]
    [InlineData("history")]
    [InlineData("show-config")]
    public async Task Prints_what_patronictl_prints(string command)
    {
        var (ours, theirs, admin) = await CraftAsync($"crafted-{command}", Config);
        using var etcdAdmin = admin;
        var a = await Ctl.RunAsync("--config", ours, command);
        var b = await Ctl.PatronictlAsync(theirs, _dir.Path, command, $"crafted-{command}");
        Assert.True(a.ExitCode == 0, a.ToString());
        Assert.True(b.ExitCode == 0, b.ToString());
        Assert.Equal(b.Output, a.Output);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("history")]
    public async Task Json_output_is_patronictls(string command)
    {
        var (ours, theirs, admin) = await CraftAsync($"json-{command}", Config);
        using var etcdAdmin = admin;
        var a = await Ctl.RunAsync("--config", ours, command, "--format", "json");
        var b = await Ctl.PatronictlAsync(theirs, _dir.Path, command, $"json-{command}", "--format", "json");
        Assert.True(a.ExitCode == 0, a.ToString());
        Assert.Equal(b.Output, a.Output);
    }

    [Fact]
    public async Task Edit_config_falls_back_to_a_compare_and_set_of_the_config_key_when_no_api_answers()
    {
        var (ours, _, admin) = await CraftAsync("edit", Config);
        using var etcdAdmin = admin;
        var r = await Ctl.RunAsync("--config", ours, "edit-config", "--force", "--set", "loop_wait=5", "--set", "pause=null", "--pg", "work_mem=8MB", "--set", "postgresql.parameters.archive_command=null");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("-loop_wait: 10", r.Output, StringComparison.Ordinal);
        Assert.Contains("+loop_wait: 5", r.Output, StringComparison.Ordinal);
        Assert.Contains("compare-and-set", r.Output, StringComparison.Ordinal);
        var config = JsonDocument.Parse((await admin.GetAsync(admin.Keys.Config, CancellationToken.None))!.Value).RootElement;
        Assert.Equal(5, config.GetProperty("loop_wait").GetInt32());
        Assert.False(config.TryGetProperty("pause", out _));
        Assert.Equal("8MB", config.GetProperty("postgresql").GetProperty("parameters").GetProperty("work_mem").GetString());
        Assert.False(config.GetProperty("postgresql").GetProperty("parameters").TryGetProperty("archive_command", out _));
        Assert.Equal(30, config.GetProperty("ttl").GetInt32());

        var again = await Ctl.RunAsync("--config", ours, "edit-config", "--force", "--set", "loop_wait=5");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("Not changed", again.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failover_writes_the_failover_key_as_patronictl_when_no_api_answers()
    {
        var (ours, _, admin) = await CraftAsync("fo", Config.Replace("\"pause\":true,", "", StringComparison.Ordinal));
        using var etcdAdmin = admin;
        var r = await Ctl.RunAsync("--config", ours, "failover", "--candidate", "db2", "--force");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("falling back to etcd", r.Output, StringComparison.Ordinal);
        Assert.Equal("""{"leader":"db1","member":"db2"}""", (await admin.GetAsync(admin.Keys.Failover, CancellationToken.None))!.Value);
    }

    [Fact]
    public async Task Without_force_and_without_a_terminal_a_switchover_is_refused_not_hung()
    {
        var (ours, _, admin) = await CraftAsync("refuse", Config.Replace("\"pause\":true,", "", StringComparison.Ordinal));
        using var etcdAdmin = admin;
        var r = await Ctl.RunAsync("--config", ours, "switchover", "--candidate", "db2");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not a terminal", r.Errors, StringComparison.Ordinal);
        Assert.Contains("--force", r.Errors, StringComparison.Ordinal);
        Assert.Null(await admin.GetAsync(admin.Keys.Failover, CancellationToken.None));

        var restart = await Ctl.RunAsync("--config", ours, "restart", "db2");
        Assert.Equal(2, restart.ExitCode);
        Assert.Contains("not a terminal", restart.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pause_on_a_paused_cluster_fails_and_names_the_state()
    {
        var (ours, _, admin) = await CraftAsync("paused", Config);
        using var etcdAdmin = admin;
        var r = await Ctl.RunAsync("--config", ours, "pause");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("Cluster is already paused", r.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_that_does_not_exist_is_a_usage_error_naming_it()
    {
        var (ours, _, admin) = await CraftAsync("missing", Config);
        using var etcdAdmin = admin;
        var r = await Ctl.RunAsync("--config", ours, "restart", "db9", "--force");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("db9 is not a member of cluster missing", r.Errors, StringComparison.Ordinal);
        var unreachable = await Ctl.RunAsync("--config", ours, "reload", "db2", "--force");
        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains("db2", unreachable.Output, StringComparison.Ordinal);
        Assert.Contains("/reload", unreachable.Output, StringComparison.Ordinal);
    }
}
