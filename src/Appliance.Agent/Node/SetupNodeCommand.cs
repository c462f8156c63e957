using Appliance.Configuration;
using Appliance.Image;

namespace Appliance.Agent.Node;

/// <summary>
/// <c>appliance-agent setup-node [--config PATH] [--root DIR]</c>: the appliance image's boot-time step.
/// Validates the node's configuration as a whole node (<see cref="ConfigRole.Node"/>: its roles and every key
/// they need) and writes what <see cref="NodeSetupPlan"/> plans under the root. Exit 2 with every error (file,
/// line, key) and nothing written when the configuration is bad.
/// </summary>
public static class SetupNodeCommand
{
    /// <summary>The command word.</summary>
    public const string Name = "setup-node";

    private const string Usage = "usage: appliance-agent setup-node [--config PATH] [--root DIR]";

    /// <summary>Runs the command with the arguments after its name; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        string? configPath = null;
        var root = "/";
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--config" when i + 1 < args.Count: configPath = args[++i]; break;
                case "--root" when i + 1 < args.Count: root = args[++i]; break;
                default:
                    stderr.WriteLine($"{Usage}\nunknown argument {args[i]}");
                    return 2;
            }
        }

        var loaded = ConfigLoader.Load(configPath, null, ConfigRole.Node);
        if (!loaded.IsValid)
        {
            foreach (var e in loaded.Errors) stderr.WriteLine(e.ToString());
            stderr.WriteLine($"{loaded.Errors.Count} configuration error(s) in {string.Join(", ", loaded.Files)}; no role was started.");
            return 2;
        }

        var plan = NodeSetupPlan.For(loaded.Config!);
        foreach (var file in plan.Files)
        {
            var path = Path.Combine(root, file.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // Written whole then renamed: a reader never sees half a file.
            File.WriteAllText(path + ".tmp", file.Content);
            File.Move(path + ".tmp", path, overwrite: true);
        }
        stdout.WriteLine($"node {loaded.Config!.Node.Name}: host name {plan.Hostname}, roles {string.Join(", ", plan.Roles)}, "
            + $"{loaded.Config.System.Interface.Count} interface(s); {plan.Files.Count} file(s) written under {root}");
        return 0;
    }
}
