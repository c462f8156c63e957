namespace Appliance.Configuration;

/// <summary>
/// The command line every appliance daemon shares: <c>PROGRAM [run|check-config|version] [--config PATH]</c>.
/// <c>check-config</c> prints the merged effective configuration with secrets masked, or the errors and exit code 2.
/// </summary>
public sealed record CommandLine(string Command, string? ConfigPath, string? Error)
{
    public static string UsageOf(string program) => $"usage: {program} [run|check-config|version] [--config PATH]";

    public static CommandLine Parse(string program, IReadOnlyList<string> args)
    {
        var usage = UsageOf(program);
        string command = "run";
        string? config = null;
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--config" or "-c" when i + 1 < args.Count:
                    config = args[++i];
                    break;
                case "--config" or "-c":
                    return new(command, null, $"--config needs a path\n{usage}");
                case "run" or "check-config" or "version":
                    command = args[i];
                    break;
                case "--version":
                    command = "version";
                    break;
                case "--help" or "-h" or "help":
                    return new(command, null, usage);
                default:
                    return new(command, null, $"unknown argument '{args[i]}'\n{usage}");
            }
        }
        return new(command, config, null);
    }
}
