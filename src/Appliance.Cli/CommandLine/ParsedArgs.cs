namespace Appliance.Cli.CommandLine;

/// <summary>A parsed command line: the command, its options by canonical name, and its positional arguments.</summary>
internal sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _values;
    private readonly HashSet<string> _flags;

    public ParsedArgs(CommandSpec command, Dictionary<string, List<string>> values, HashSet<string> flags, IReadOnlyList<string> positionals)
    {
        Command = command;
        _values = values;
        _flags = flags;
        Positionals = positionals;
    }

    public CommandSpec Command { get; }
    public IReadOnlyList<string> Positionals { get; }

    public string? Value(string name) => _values.TryGetValue(name, out var v) ? v[^1] : null;
    public IReadOnlyList<string> All(string name) => _values.TryGetValue(name, out var v) ? v : [];
    public bool Flag(string name) => _flags.Contains(name);

    /// <summary>A positive number of seconds, or null when the option is absent.</summary>
    public double? Seconds(string name)
    {
        if (Value(name) is not { } text) return null;
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
            ? s
            : throw CtlException.UsageError($"--{name}: '{text}' is not a positive number of seconds");
    }
}
