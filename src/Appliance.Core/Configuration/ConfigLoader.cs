namespace Appliance.Configuration;

/// <summary>
/// Finds, reads, merges and validates the configuration files.
/// <para>
/// Where: <c>--config PATH</c> wins over the <c>APPLIANCE_CONFIG</c> environment variable, which
/// wins over <c>/etc/appliance</c>. A PATH that is a file means that file only. A folder means
/// <c>PATH/appliance.toml</c> (if present) then the drop-ins <c>PATH/conf.d/*.toml</c>; when
/// neither exists, every <c>PATH/*.toml</c>. Files are taken in ordinal name order.
/// </para>
/// <para>
/// How: later files win key by key; tables merge at any depth; an array or scalar replaces the
/// earlier one whole. The merged result is checked against the schema and every error is
/// returned, each with its file, line, column and dotted key.
/// </para>
/// </summary>
public static class ConfigLoader
{
    /// <summary>The folder read when neither <c>--config</c> nor <see cref="EnvironmentVariable"/> is given.</summary>
    public const string DefaultFolder = "/etc/appliance";

    /// <summary>The environment variable that names a configuration file or folder.</summary>
    public const string EnvironmentVariable = "APPLIANCE_CONFIG";

    /// <summary>The command-line option that names a configuration file or folder.</summary>
    public const string CommandLineOption = "--config";

    /// <summary>The main file of a configuration folder.</summary>
    public const string MainFileName = "appliance.toml";

    /// <summary>The drop-in folder inside a configuration folder.</summary>
    public const string DropInFolderName = "conf.d";

    /// <summary>The value of <c>--config PATH</c> or <c>--config=PATH</c> in <paramref name="args"/> (the last one wins), or null.</summary>
    public static string? CommandLinePath(IReadOnlyList<string> args)
    {
        string? path = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == CommandLineOption && i + 1 < args.Count)
                path = args[++i];
            else if (args[i].StartsWith(CommandLineOption + "=", StringComparison.Ordinal))
                path = args[i][(CommandLineOption.Length + 1)..];
        }
        return path;
    }

    /// <summary>
    /// The files to read, in merge order. <paramref name="cliPath"/> wins over
    /// <paramref name="envValue"/>, which wins over <see cref="DefaultFolder"/>; empty values count as
    /// absent. A path that does not exist, or a folder without any file, yields the file that was
    /// expected, so that <see cref="Load(IReadOnlyList{string}, ConfigRole)"/> reports it as missing.
    /// </summary>
    public static IReadOnlyList<string> Resolve(string? cliPath, string? envValue)
    {
        var path = !string.IsNullOrWhiteSpace(cliPath) ? cliPath
            : !string.IsNullOrWhiteSpace(envValue) ? envValue
            : DefaultFolder;
        if (!Directory.Exists(path))
            return [path];

        var main = Path.Combine(path, MainFileName);
        var dropIns = Path.Combine(path, DropInFolderName);
        List<string> files;
        if (File.Exists(main) || Directory.Exists(dropIns))
        {
            files = File.Exists(main) ? [main] : [];
            files.AddRange(TomlFilesIn(dropIns));
        }
        else
        {
            files = TomlFilesIn(path);
        }
        return files.Count > 0 ? files : [main];
    }

    /// <summary>Resolves (see <see cref="Resolve"/>) and loads in one call.</summary>
    public static ConfigResult Load(string? cliPath, string? envValue, ConfigRole role = ConfigRole.Agent) => Load(Resolve(cliPath, envValue), role);

    /// <summary>Reads and merges <paramref name="files"/> in order; a file that cannot be read is an error like any other. <paramref name="role"/> decides the required keys.</summary>
    public static ConfigResult Load(IReadOnlyList<string> files, ConfigRole role = ConfigRole.Agent)
    {
        var errors = new ErrorList();
        var texts = new List<(string, string)>(files.Count);
        for (var i = 0; i < files.Count; i++)
        {
            try
            {
                texts.Add((files[i], File.ReadAllText(files[i])));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                var reason = ex is FileNotFoundException or DirectoryNotFoundException ? "file not found" : ex.Message;
                errors.Add(new SourceLocation(files[i], i, 0, 0), "", $"cannot read the configuration file: {reason}");
                texts.Add((files[i], ""));
            }
        }
        return LoadFromText(texts, errors, role);
    }

    /// <summary>Merges and validates already-read files (name, text), in order. No file system access: for tests and for text received over the API.</summary>
    public static ConfigResult LoadFromText(IEnumerable<(string FileName, string Text)> files, ConfigRole role = ConfigRole.Agent) => LoadFromText(files, new ErrorList(), role);

    private static ConfigResult LoadFromText(IEnumerable<(string FileName, string Text)> files, ErrorList errors, ConfigRole role)
    {
        var list = files.ToList();
        var names = list.Select(f => f.FileName).ToList();
        if (list.Count == 0)
            return ConfigResult.Failure([new ConfigError("", 0, 0, "", "no configuration file found")], names);

        var merged = new TomlTableNode(new SourceLocation(list[0].FileName, 0, 1, 1));
        var unreadable = errors.Count > 0;
        for (var i = 0; i < list.Count; i++)
        {
            var tree = TomlTreeBuilder.Parse(list[i].FileName, i, list[i].Text, errors);
            if (tree is null)
                unreadable = true;
            else
                merged.MergeFrom(tree);
        }

        var config = ConfigSchema.Root.Bind(new ApplianceConfig(), merged, "", errors);
        // When a file could not be read or parsed, its keys are unknown: "missing" and cross-key
        // errors would only be noise around the real one.
        if (!unreadable)
            ConfigRules.Check(config, merged, new SourceLocation(list[^1].FileName, list.Count - 1, 0, 0), errors, role);

        return errors.Count == 0 ? ConfigResult.Success(config, names) : ConfigResult.Failure(errors.Sorted(), names);
    }

    /// <summary>The <c>*.toml</c> files directly in <paramref name="folder"/>, in ordinal name order. Hidden files are skipped: editors leave their temporary copies under dot-names.</summary>
    private static List<string> TomlFilesIn(string folder) =>
        !Directory.Exists(folder) ? []
        : [.. Directory.EnumerateFiles(folder)
            .Where(f => f.EndsWith(".toml", StringComparison.Ordinal) && !Path.GetFileName(f).StartsWith('.'))
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)];
}
