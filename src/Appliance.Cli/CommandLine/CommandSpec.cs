namespace Appliance.Cli.CommandLine;

/// <summary>
/// What one command accepts: options that take a value (each spelling mapped to one canonical
/// name), flags, and what its positional arguments mean. Option spellings follow patronictl's.
/// </summary>
internal sealed record CommandSpec(string Name, string Help, string Positionals)
{
    public IReadOnlyDictionary<string, string> Values { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Flags { get; init; } = new Dictionary<string, string>();
    /// <summary>Options that may be given several times (<c>--set</c>, <c>--pg</c>).</summary>
    public IReadOnlySet<string> Repeatable { get; init; } = new HashSet<string>();
    /// <summary>True when the positionals are member names (restart, reload, reinit), false when they are one optional cluster name.</summary>
    public bool MemberPositionals { get; init; }

    public static Dictionary<string, string> Names(params (string Canonical, string[] Spellings)[] options)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (canonical, spellings) in options)
            foreach (var s in spellings) d[s] = canonical;
        return d;
    }
}
