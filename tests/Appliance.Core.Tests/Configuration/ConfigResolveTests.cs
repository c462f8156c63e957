using Appliance.Configuration;
using Appliance.TestKit;

namespace Appliance.Core.Tests.Configuration;

/// <summary>Which files are read, in which order: <c>--config</c>, then <c>APPLIANCE_CONFIG</c>, then /etc/appliance; file versus folder.</summary>
public sealed class ConfigResolveTests : IDisposable
{
    private readonly TempDir _dir = new("appl-config");

    public void Dispose() => _dir.Dispose();

    private string Write(string relative, string text)
    {
        var path = _dir.Sub(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Folder_means_main_file_then_drop_ins_in_ordinal_name_order()
    {
        var main = Write("appliance.toml", ConfigText.Minimal);
        var b = Write("conf.d/B.toml", "");
        var a10 = Write("conf.d/10-a.toml", "");
        var a9 = Write("conf.d/9-z.toml", "");
        Write("conf.d/notes.txt", "");
        Write("conf.d/.10-a.toml.swp.toml", "");
        Write("other.toml", "");

        Assert.Equal([main, a10, a9, b], ConfigLoader.Resolve(_dir.Path, null));
    }

    [Fact]
    public void Folder_with_only_drop_ins_reads_the_drop_ins()
    {
        var dropIn = Write("conf.d/10.toml", "");
        Write("stray.toml", "");

        Assert.Equal([dropIn], ConfigLoader.Resolve(_dir.Path, null));
    }

    [Fact]
    public void Folder_without_main_file_or_conf_d_reads_every_toml_file_in_it()
    {
        var b = Write("b.toml", "");
        var a = Write("a.toml", "");
        Write("readme.md", "");

        Assert.Equal([a, b], ConfigLoader.Resolve(_dir.Path, null));
    }

    [Fact]
    public void Empty_folder_yields_the_expected_main_file_which_then_loads_as_missing()
    {
        var files = ConfigLoader.Resolve(_dir.Path, null);

        Assert.Equal([_dir.Sub("appliance.toml")], files);
        var error = ConfigText.Single(ConfigLoader.Load(files));
        Assert.Equal(new ConfigError(_dir.Sub("appliance.toml"), 0, 0, "", "cannot read the configuration file: file not found"), error);
    }

    [Fact]
    public void File_means_that_file_only()
    {
        var file = Write("custom.toml", ConfigText.Minimal);
        Write("conf.d/10.toml", "");

        Assert.Equal([file], ConfigLoader.Resolve(file, null));
    }

    [Fact]
    public void Command_line_wins_over_environment_which_wins_over_default()
    {
        var cli = Write("cli.toml", "");
        var env = Write("env.toml", "");

        Assert.Equal([cli], ConfigLoader.Resolve(cli, env));
        Assert.Equal([env], ConfigLoader.Resolve(null, env));
        Assert.Equal([env], ConfigLoader.Resolve("", env));
        var fallback = ConfigLoader.Resolve(null, " ");
        Assert.True(fallback.All(f => f.StartsWith(ConfigLoader.DefaultFolder, StringComparison.Ordinal)), string.Join(", ", fallback));
    }

    [Fact]
    public void Command_line_path_is_found_in_either_spelling()
    {
        Assert.Equal("/a", ConfigLoader.CommandLinePath(["run", "--config", "/a"]));
        Assert.Equal("/b", ConfigLoader.CommandLinePath(["--config=/b", "check-config"]));
        Assert.Null(ConfigLoader.CommandLinePath(["check-config", "--config"]));
        Assert.Null(ConfigLoader.CommandLinePath([]));
    }

    [Fact]
    public void Files_on_disk_merge_in_resolved_order_and_errors_name_the_real_file()
    {
        Write("appliance.toml", ConfigText.Minimal + "\n[agent]\nttl = 60\nloop_wait = 10\n");
        Write("conf.d/10-timing.toml", "[agent]\nloop_wait = 20\n");
        var last = Write("conf.d/20-more.toml", "[agent]\nloop_wait = 30\nretry_timeout = \"x\"\n");

        var result = ConfigLoader.Load(_dir.Path, null);

        var error = ConfigText.Single(result);
        Assert.Equal(new ConfigError(last, 3, 17, "agent.retry_timeout", "expected an integer, found a string (\"x\")"), error);
        Assert.Equal(3, result.Files.Count);

        File.WriteAllText(last, "[agent]\nloop_wait = 30\n");
        var config = ConfigLoader.Load(_dir.Path, null);
        Assert.True(config.IsValid, config.ToString());
        Assert.Equal((60, 30), (config.Config.Agent.Ttl, config.Config.Agent.LoopWait));
    }

    [Fact]
    public void Missing_file_named_on_the_command_line_is_an_error_not_an_exception()
    {
        var missing = _dir.Sub("nope.toml");

        var error = ConfigText.Single(ConfigLoader.Load(missing, null));

        Assert.Equal($"{missing}:0:0: cannot read the configuration file: file not found", error.ToString());
    }

    [Fact]
    public void No_files_at_all_is_an_error()
    {
        var error = ConfigText.Single(ConfigLoader.Load([]));

        Assert.Equal("no configuration file found", error.Message);
    }
}
