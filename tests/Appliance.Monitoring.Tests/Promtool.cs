using Appliance.TestKit;

namespace Appliance.Monitoring.Tests;

/// <summary>Prometheus' own checker (Debian's <c>prometheus</c> package, installed by scripts/setup.sh).</summary>
static class Promtool
{
    const string Path = "/usr/bin/promtool";

    /// <summary>Runs <c>promtool args</c> and fails the test, with promtool's output, unless it exits 0.</summary>
    public static async Task<string> MustPassAsync(params string[] args)
    {
        Assert.True(File.Exists(Path), $"{Path} is missing: install the prometheus package (scripts/setup.sh) to check monitoring/");
        var r = await Cli.RunAsync(Path, args);
        Assert.True(r.ExitCode == 0, $"promtool {string.Join(' ', args)} exited {r.ExitCode}:\n{r.Output}\n{r.Errors}");
        return r.Output + r.Errors;
    }
}
