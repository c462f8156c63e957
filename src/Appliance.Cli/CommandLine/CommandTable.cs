namespace Appliance.Cli.CommandLine;

/// <summary>Every command appliancectl knows, with patronictl's option spellings.</summary>
internal static class CommandTable
{
    /// <summary>Options every command takes.</summary>
    public static readonly IReadOnlyDictionary<string, string> GlobalValues = CommandSpec.Names(
        ("config", ["--config", "-c", "--config-file"]),
        ("dcs-url", ["--dcs-url", "--dcs", "-d"]),
        ("scope", ["--scope"]));

    private static readonly (string, string[]) Force = ("force", ["--force"]);
    private static readonly (string, string[]) Format = ("format", ["--format", "-f"]);
    private static readonly (string, string[]) Role = ("role", ["--role", "-r"]);
    private static readonly (string, string[]) Leader = ("leader", ["--leader", "--primary", "--master"]);
    private static readonly (string, string[]) Candidate = ("candidate", ["--candidate"]);
    private static readonly (string, string[]) Scheduled = ("scheduled", ["--scheduled"]);
    private static readonly (string, string[]) WaitFlag = ("wait", ["--wait"]);

    public static readonly IReadOnlyList<CommandSpec> All =
    [
        new("list", "List the members of the cluster", "[CLUSTER]")
        {
            Values = CommandSpec.Names(Format, ("watch", ["--watch", "-w"]), ("interval", ["--interval"])),
            Flags = CommandSpec.Names(("W", ["-W"]), ("timestamp", ["--timestamp", "-t"])),
        },
        new("topology", "Print the members under their upstream", "[CLUSTER]")
        {
            Values = CommandSpec.Names(("watch", ["--watch", "-w"]), ("interval", ["--interval"])),
            Flags = CommandSpec.Names(("W", ["-W"]), ("timestamp", ["--timestamp", "-t"])),
        },
        new("history", "Show the history of failovers and switchovers", "[CLUSTER]") { Values = CommandSpec.Names(Format) },
        new("show-config", "Show the cluster's dynamic configuration (YAML, or --format json)", "[CLUSTER]") { Values = CommandSpec.Names(Format) },
        new("edit-config", "Edit the cluster's dynamic configuration", "[CLUSTER]")
        {
            Values = CommandSpec.Names(("set", ["--set", "-s"]), ("pg", ["--pg", "-p"])),
            Flags = CommandSpec.Names(Force, ("quiet", ["--quiet", "-q"])),
            Repeatable = new HashSet<string> { "set", "pg" },
        },
        new("pause", "Disable automatic failover (maintenance mode)", "[CLUSTER]") { Flags = CommandSpec.Names(WaitFlag) },
        new("resume", "Resume automatic failover", "[CLUSTER]") { Flags = CommandSpec.Names(WaitFlag) },
        new("switchover", "Switch the primary over to a replica", "[CLUSTER]")
        {
            Values = CommandSpec.Names(Leader, Candidate, Scheduled),
            Flags = CommandSpec.Names(Force),
        },
        new("failover", "Fail over to a replica", "[CLUSTER]")
        {
            Values = CommandSpec.Names(Leader, Candidate),
            Flags = CommandSpec.Names(Force),
        },
        new("restart", "Restart PostgreSQL on members", "[MEMBER...]")
        {
            Values = CommandSpec.Names(Role, Scheduled, ("pg-version", ["--pg-version"]), ("timeout", ["--timeout"])),
            Flags = CommandSpec.Names(Force, ("pending", ["--pending"]), ("any", ["--any"])),
            MemberPositionals = true,
        },
        new("reload", "Reload the configuration of members", "[MEMBER...]")
        {
            Values = CommandSpec.Names(Role),
            Flags = CommandSpec.Names(Force),
            MemberPositionals = true,
        },
        new("reinit", "Reinitialize a replica from the primary", "MEMBER...")
        {
            Flags = CommandSpec.Names(Force, WaitFlag),
            MemberPositionals = true,
        },
        new("version", "Print appliancectl's version", "") { },
    ];

    public static string Usage()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("usage: appliancectl [--config PATH] [--dcs-url URL] [--scope NAME] COMMAND [OPTIONS] [ARGS]");
        sb.AppendLine();
        sb.AppendLine("Commands:");
        foreach (var c in All)
            sb.AppendLine($"  {c.Name,-12} {c.Help}");
        sb.AppendLine();
        sb.AppendLine("Configuration: --config PATH, else $APPLIANCE_CONFIG, else /etc/appliance (the agent's TOML: [etcd], [cluster], [restapi]).");
        sb.Append("Exit codes: 0 ok, 1 the operation failed, 2 usage or configuration error.");
        return sb.ToString();
    }

    public static string Usage(CommandSpec c)
    {
        var options = c.Values.GroupBy(kv => kv.Value).Select(g => string.Join('/', g.Select(kv => kv.Key)) + " VALUE")
            .Concat(c.Flags.GroupBy(kv => kv.Value).Select(g => string.Join('/', g.Select(kv => kv.Key))));
        return $"usage: appliancectl {c.Name} {c.Positionals} {string.Join(' ', options.Select(o => $"[{o}]"))}".TrimEnd()
            + $"\n  {c.Help}";
    }
}
