using Appliance.TestKit;

namespace Appliance.Balancer.Tests;

/// <summary><c>appliance-balancer</c> as an operator runs it: the built binary, real files, exit codes.</summary>
public sealed class CheckConfigTests : IDisposable
{
    readonly TempDir _dir = new("appl-balancer-config");
    public void Dispose() => _dir.Dispose();

    const string Valid = """
        [[vrrp]]
        name = "VI_1"
        interface = "eth0"
        virtual_router_id = 51
        auth_pass = "s3cret"
        virtual_ipaddress = ["10.231.0.140/24"]
        """;

    static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "appliance-balancer.dll");
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
    public async Task Version_prints_the_name_and_version()
    {
        var (code, output, _) = await RunAsync("version");
        Assert.Equal(0, code);
        Assert.StartsWith("appliance-balancer ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_file_prints_the_instances_with_the_password_masked()
    {
        Write("appliance.toml", Valid);
        var (code, output, err) = await RunAsync("check-config", "--config", _dir.Path);
        Assert.True(code == 0, err);
        Assert.Contains("[[vrrp]]", output, StringComparison.Ordinal);
        Assert.Contains("virtual_router_id = 51", output, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", output, StringComparison.Ordinal);
        Assert.Contains("auth_pass = \"********\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_file_names_file_line_key_and_exits_2()
    {
        var file = Write("appliance.toml", Valid.Replace("virtual_router_id = 51", "virtual_router_id = 300", StringComparison.Ordinal));
        var (code, _, err) = await RunAsync("check-config", "--config", _dir.Path);
        Assert.Equal(2, code);
        Assert.Contains($"{file}:4:", err, StringComparison.Ordinal);
        Assert.Contains("vrrp[0].virtual_router_id: expected an integer from 1 to 255, found 300", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Balancer_listen_is_printed_and_validated_as_host_port()
    {
        Write("appliance.toml", Valid);
        var (code, output, err) = await RunAsync("check-config", "--config", _dir.Path);
        Assert.True(code == 0, err);
        Assert.Contains("listen = \"127.0.0.1:8009\"", output, StringComparison.Ordinal);

        Write("conf.d/listen.toml", "[balancer]\nlisten = \"localhost\"\n");
        (code, _, err) = await RunAsync("check-config", "--config", _dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("balancer.listen: expected host:port", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_arguments_are_usage_errors() => Assert.Equal(2, (await RunAsync("frobnicate")).Code);
}
