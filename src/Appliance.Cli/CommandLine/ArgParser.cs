namespace Appliance.Cli.CommandLine;

/// <summary>
/// Parses <c>appliancectl [global options] COMMAND [options] [args]</c>. Options may come before or
/// after the command; <c>--name=value</c> and <c>--name value</c> both work. Anything unknown is a
/// usage error naming it.
/// </summary>
internal static class ArgParser
{
    public static ParsedArgs Parse(IReadOnlyList<string> args)
    {
        CommandSpec? command = null;
        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        var positionals = new List<string>();
        var pending = new List<string>(); // options seen before the command, checked once it is known
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a is "--help" or "-h" or "help")
                throw new CtlException(0, command is null ? CommandTable.Usage() : CommandTable.Usage(command));
            if (a.StartsWith('-') && a.Length > 1)
            {
                var (name, inline) = a.StartsWith("--", StringComparison.Ordinal) && a.IndexOf('=', StringComparison.Ordinal) is var eq and > 0
                    ? (a[..eq], a[(eq + 1)..])
                    : (a, null);
                if (CommandTable.GlobalValues.TryGetValue(name, out var global) || (command?.Values.TryGetValue(name, out global) ?? false))
                {
                    var value = inline ?? (i + 1 < args.Count ? args[++i] : throw CtlException.UsageError($"{name} needs a value"));
                    if (!values.TryGetValue(global!, out var list)) values[global!] = list = [];
                    list.Add(value);
                    continue;
                }
                if (command is not null && command.Flags.TryGetValue(name, out var flag))
                {
                    if (inline is not null) throw CtlException.UsageError($"{name} takes no value");
                    flags.Add(flag);
                    continue;
                }
                if (command is null)
                {
                    // Possibly an option of the command that follows: decide when it is known.
                    pending.Add(a);
                    continue;
                }
                throw CtlException.UsageError($"unknown option '{name}' for '{command.Name}'\n{CommandTable.Usage(command)}");
            }
            if (command is null)
            {
                command = CommandTable.All.FirstOrDefault(c => c.Name == a)
                    ?? throw CtlException.UsageError($"unknown command '{a}'\n{CommandTable.Usage()}");
                if (pending.Count > 0)
                {
                    // Re-parse with the command known, options first.
                    return Parse([a, .. pending, .. args.Skip(i + 1), .. Globals(values)]);
                }
                continue;
            }
            positionals.Add(a);
        }
        if (command is null)
            throw CtlException.UsageError(pending.Count > 0 ? $"unknown option '{pending[0]}'\n{CommandTable.Usage()}" : $"no command given\n{CommandTable.Usage()}");
        foreach (var (name, list) in values)
            if (list.Count > 1 && !command.Repeatable.Contains(name) && !CommandTable.GlobalValues.Values.Contains(name))
                throw CtlException.UsageError($"--{name} given {list.Count} times");
        if (!command.MemberPositionals && positionals.Count > (command.Positionals.Length > 0 ? 1 : 0))
            throw CtlException.UsageError($"unexpected argument '{positionals[^1]}'\n{CommandTable.Usage(command)}");
        return new ParsedArgs(command, values, flags, positionals);
    }

    private static IEnumerable<string> Globals(Dictionary<string, List<string>> values)
    {
        foreach (var (name, list) in values)
            foreach (var v in list)
            {
                yield return "--" + name;
                yield return v;
            }
    }
}
