namespace Appliance.Configuration;

/// <summary>
/// What every appliance daemon does before it runs: read its command line, answer <c>version</c>, load and
/// validate its configuration (every error with file, line and key, then exit 2 with nothing started), and
/// answer <c>check-config</c> with the merged configuration, secrets masked.
/// </summary>
public static class DaemonStart
{
    /// <summary>The configuration to run with, or null and the exit code when the command is done (or refused).</summary>
    public static async Task<(ApplianceConfig? Config, int ExitCode)> PrepareAsync(
        string program, string version, ConfigRole role, IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var cli = CommandLine.Parse(program, args);
        if (cli.Error is { } usage)
        {
            await stderr.WriteLineAsync(usage);
            return (null, 2);
        }
        if (cli.Command == "version")
        {
            await stdout.WriteLineAsync($"{program} {version}");
            return (null, 0);
        }
        var loaded = ConfigLoader.Load(cli.ConfigPath, Environment.GetEnvironmentVariable(ConfigLoader.EnvironmentVariable), role);
        if (!loaded.IsValid)
        {
            foreach (var e in loaded.Errors) await stderr.WriteLineAsync(e.ToString());
            await stderr.WriteLineAsync($"{loaded.Errors.Count} configuration error(s); nothing was started.");
            return (null, 2);
        }
        if (cli.Command == "check-config")
        {
            await stdout.WriteAsync(ConfigPrinter.Render(loaded.Config!));
            return (null, 0);
        }
        return (loaded.Config!, 0);
    }
}
