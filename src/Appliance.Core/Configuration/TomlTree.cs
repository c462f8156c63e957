namespace Appliance.Configuration;

// The merged TOML of every configuration file, with the place each key and value came from.
// Tomlyn's TomlTable loses positions, and its syntax tree is per file; this small tree is what
// several files merge into before it is bound to the records.

/// <summary>A place in a configuration file. <see cref="Line"/> and <see cref="Column"/> are 1-based, 0 when unknown.</summary>
/// <param name="File">The file name as given to the loader.</param>
/// <param name="FileIndex">Position of the file in the merge order: a key in a later file is defined later.</param>
/// <param name="Line">1-based line, 0 when unknown.</param>
/// <param name="Column">1-based column, 0 when unknown.</param>
internal readonly record struct SourceLocation(string File, int FileIndex, int Line, int Column)
{
    /// <summary>True when this place comes after <paramref name="other"/> in merge order (later file, or later in the same file).</summary>
    public bool IsAfter(SourceLocation other) =>
        FileIndex != other.FileIndex ? FileIndex > other.FileIndex
        : Line != other.Line ? Line > other.Line
        : Column > other.Column;
}

/// <summary>A TOML value with the place it was written.</summary>
internal abstract class TomlNode(SourceLocation location)
{
    public SourceLocation Location { get; } = location;
}

/// <summary>What kind of TOML scalar a <see cref="TomlScalar"/> holds.</summary>
internal enum TomlScalarKind
{
    String,
    Integer,
    Float,
    Boolean,
    DateTime,
}

/// <summary>A string (<see cref="string"/>), integer (<see cref="long"/>), float (<see cref="double"/>), boolean (<see cref="bool"/>) or date-time (its text).</summary>
internal sealed class TomlScalar(SourceLocation location, TomlScalarKind kind, object value) : TomlNode(location)
{
    public TomlScalarKind Kind { get; } = kind;
    public object Value { get; } = value;
}

/// <summary>A TOML array (also what <c>[[name]]</c> arrays of tables become).</summary>
internal sealed class TomlArray(SourceLocation location, List<TomlNode> items) : TomlNode(location)
{
    public List<TomlNode> Items { get; } = items;
}

/// <summary>A key of a table: where the key was written and its value.</summary>
internal sealed record TomlEntry(SourceLocation KeyLocation, TomlNode Value);

/// <summary>A TOML table, keys in the order they were first defined.</summary>
internal sealed class TomlTableNode(SourceLocation location) : TomlNode(location)
{
    private readonly OrderedDictionary<string, TomlEntry> _entries = new(StringComparer.Ordinal);

    public IEnumerable<KeyValuePair<string, TomlEntry>> Entries => _entries;

    public bool TryGet(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TomlEntry? entry) =>
        _entries.TryGetValue(key, out entry);

    /// <summary>Adds or replaces a key; a replaced key keeps its place in the order.</summary>
    public void Set(string key, TomlEntry entry) => _entries[key] = entry;

    /// <summary>The entry at a dotted path below this table, such as <c>agent.ttl</c>; null when absent.</summary>
    public TomlEntry? Find(string dottedPath)
    {
        TomlTableNode table = this;
        var parts = dottedPath.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            if (!table.TryGet(parts[i], out var entry))
                return null;
            if (i == parts.Length - 1)
                return entry;
            if (entry.Value is not TomlTableNode next)
                return null;
            table = next;
        }
        return null;
    }

    /// <summary>
    /// Merges <paramref name="later"/> into this table: tables merge key by key, at any depth;
    /// any other value (scalars, arrays) is replaced whole by the later one.
    /// </summary>
    public void MergeFrom(TomlTableNode later)
    {
        foreach (var (key, entry) in later.Entries)
        {
            if (TryGet(key, out var existing) && existing.Value is TomlTableNode mine && entry.Value is TomlTableNode theirs)
                mine.MergeFrom(theirs);
            else
                Set(key, entry);
        }
    }
}
