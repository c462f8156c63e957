using Appliance.TestKit;

namespace Appliance.Agent.Tests;

/// <summary><c>appliance-agent check-config</c> as an operator runs it: the built agent, real files, exit codes.</summary>
public sealed class CheckConfigTests : IDisposable
{
    readonly TempDir _dir = new("appl-checkconfig");
    public void Dispose() => _dir.Dispose();

    const string Valid = """
        [node]
        name = "db1"
        [cluster]
        scope = "prod"
        [postgresql]
        data_dir = "/var/lib/appliance/data"
        [postgresql.superuser]
        password = "s3cret-superuser"
        [etcd]
        password = "s3cret-etcd"
        username = "agent"
        """;

    static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "appliance-agent.dll");
        var r = await Cli.RunAsync("dotnet", [dll, .. args], new Dictionary<string, string?> { ["APPLIANCE_CONFIG"] = null });
        return (r.ExitCode, r.Output, r.Errors);
    }

    string Write(string name, string text)
    {
        var path = _dir.Sub(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task A_valid_folder_prints_the_merged_configuration_with_secrets_masked()
    {
        Write("appliance.toml", Valid);
        Write("conf.d/10-timings.toml", "[agent]\nttl = 20\nloop_wait = 5\nretry_timeout = 5\n");
        var (code, output, _) = await RunAsync("check-config", "--config", _dir.Path);
        Assert.Equal(0, code);
        Assert.Contains("ttl = 20", output, StringComparison.Ordinal);
        Assert.Contains("scope = \"prod\"", output, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", output, StringComparison.Ordinal);
        Assert.Contains("********", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[agent]\nttl = \"thirty\"", "agent.ttl", "integer")]
    [InlineData("[agent]\nloopwait = 3", "agent.loopwait", "did you mean 'loop_wait'")]
    [InlineData("[agent]\nttl = 10\nloop_wait = 10\nretry_timeout = 10", "retry_timeout", "ttl")]
    [InlineData("[postgresql]\nport = 70000", "postgresql.port", "65535")]
    [InlineData("[node\nname = 1", "", "syntax")]
    [InlineData("[etcd]\nendpoints = [\"localhost\"]", "etcd.endpoints", "http")]
    public async Task Each_error_class_names_file_line_key_and_exits_2(string drop, string key, string expected)
    {
        Write("appliance.toml", Valid);
        var bad = Write("conf.d/50-bad.toml", drop);
        var (code, _, errors) = await RunAsync("check-config", "--config", _dir.Path);
        Assert.Equal(2, code);
        Assert.Contains(bad + ":", errors, StringComparison.Ordinal);
        Assert.Contains(key, errors, StringComparison.Ordinal);
        Assert.Contains(expected, errors, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("s3cret", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_required_key_is_reported_and_the_agent_does_not_start()
    {
        Write("appliance.toml", "[node]\nname = \"db1\"\n");
        var (code, _, errors) = await RunAsync("--config", _dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("cluster.scope", errors, StringComparison.Ordinal);
        Assert.Contains("postgresql.data_dir", errors, StringComparison.Ordinal);
        Assert.Contains("nothing was started", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_argument_is_a_usage_error()
    {
        var (code, _, errors) = await RunAsync("--frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("usage: appliance-agent", errors, StringComparison.Ordinal);
    }
}
