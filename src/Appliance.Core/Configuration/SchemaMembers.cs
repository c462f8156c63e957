namespace Appliance.Configuration;

// The schema is a table of members per TOML table: each knows its key, its doc, how to read its
// value from the merged TOML onto a record (with errors that say what was expected), and how to
// write it back. Loading, unknown-key suggestions and ConfigPrinter all walk the same table, so a
// key added once is loaded, checked, suggested and printed. No reflection: AOT-safe.

/// <summary>One key of a TOML table, bound to a property of the record <typeparamref name="T"/>.</summary>
internal interface IConfigMember<T>
{
    /// <summary>The TOML key (snake_case of the property name).</summary>
    string Name { get; }

    /// <summary>One line for operators: what the key means.</summary>
    string Doc { get; }

    /// <summary>True when the key is a table of its own (<c>[section]</c>), printed after the plain keys.</summary>
    bool IsTable { get; }

    /// <summary>Returns <paramref name="target"/> with this key set from <paramref name="entry"/>; on a bad value, adds an error and returns <paramref name="target"/> unchanged.</summary>
    T Bind(T target, TomlEntry entry, string path, ErrorList errors);

    /// <summary>Writes this key's current value in <paramref name="source"/>.</summary>
    void Render(T source, string path, TomlWriter writer);
}

/// <summary>The known keys of one TOML table, bound to the record <typeparamref name="T"/>.</summary>
internal sealed class TableSpec<T>(string doc, params IConfigMember<T>[] members)
{
    public string Doc { get; } = doc;

    public IReadOnlyList<IConfigMember<T>> Members { get; } = members;

    public T Bind(T target, TomlTableNode table, string path, ErrorList errors)
    {
        foreach (var (key, entry) in table.Entries)
        {
            var keyPath = TomlTreeBuilder.Join(path, key);
            var member = Members.FirstOrDefault(m => m.Name == key);
            if (member is null)
                errors.Add(entry.KeyLocation, keyPath, DidYouMean.UnknownKey(key, Members.Select(m => m.Name)));
            else
                target = member.Bind(target, entry, keyPath, errors);
        }
        return target;
    }

    public void Render(T source, string path, TomlWriter writer)
    {
        if (path.Length > 0)
            writer.Table(path, Doc);
        RenderBody(source, path, writer);
    }

    /// <summary>The keys and sub-tables without the table's own header (an element of <c>[[path]]</c> has its own).</summary>
    public void RenderBody(T source, string path, TomlWriter writer)
    {
        foreach (var member in Members.Where(m => !m.IsTable))
            member.Render(source, TomlTreeBuilder.Join(path, member.Name), writer);
        foreach (var member in Members.Where(m => m.IsTable))
            member.Render(source, TomlTreeBuilder.Join(path, member.Name), writer);
    }
}

/// <summary>A key holding a single value (or an array of strings), read and written by a <see cref="ValueKind{TValue}"/>.</summary>
internal sealed class ValueMember<T, TValue>(string name, string doc, ValueKind<TValue> kind, Func<T, TValue> get, Func<T, TValue, T> set)
    : IConfigMember<T>
{
    public string Name { get; } = name;
    public string Doc { get; } = doc;
    public bool IsTable => false;

    public T Bind(T target, TomlEntry entry, string path, ErrorList errors) =>
        kind.TryRead(entry.Value, path, errors, out var value) ? set(target, value) : target;

    public void Render(T source, string path, TomlWriter writer) => writer.Key(Name, Doc, kind.Format(get(source)));
}

/// <summary>A sub-table (<c>[postgresql.superuser]</c>) bound to a nested record.</summary>
internal sealed class TableMember<T, TChild>(string name, TableSpec<TChild> spec, Func<T, TChild> get, Func<T, TChild, T> set)
    : IConfigMember<T>
{
    public string Name { get; } = name;
    public string Doc => spec.Doc;
    public bool IsTable => true;

    public T Bind(T target, TomlEntry entry, string path, ErrorList errors)
    {
        if (entry.Value is not TomlTableNode table)
        {
            errors.Add(entry.Value.Location, path, $"expected a table ([{path}]), found {ValueText.Describe(entry.Value)}");
            return target;
        }
        return set(target, spec.Bind(get(target), table, path, errors));
    }

    public void Render(T source, string path, TomlWriter writer) => spec.Render(get(source), path, writer);
}

/// <summary>
/// An open table of settings (<c>[postgresql.parameters]</c>): any key, whose value may be a string,
/// integer, float or boolean, kept as the string postgresql.conf wants (booleans as on/off).
/// </summary>
internal sealed class SettingsMember<T>(string name, string doc, Func<T, IReadOnlyDictionary<string, string>> get, Func<T, IReadOnlyDictionary<string, string>, T> set)
    : IConfigMember<T>
{
    public string Name { get; } = name;
    public string Doc { get; } = doc;
    public bool IsTable => true;

    public T Bind(T target, TomlEntry entry, string path, ErrorList errors)
    {
        if (entry.Value is not TomlTableNode table)
        {
            errors.Add(entry.Value.Location, path, $"expected a table ([{path}]), found {ValueText.Describe(entry.Value)}");
            return target;
        }
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, setting) in table.Entries)
        {
            var text = setting.Value is TomlScalar scalar ? ValueText.AsSetting(scalar) : null;
            if (text is null)
                errors.Add(setting.Value.Location, TomlTreeBuilder.Join(path, key), $"expected a string, integer, float or boolean, found {ValueText.Describe(setting.Value)}");
            else
                settings[key] = text;
        }
        return set(target, settings);
    }

    public void Render(T source, string path, TomlWriter writer)
    {
        writer.Table(path, Doc);
        foreach (var (key, value) in get(source).OrderBy(p => p.Key, StringComparer.Ordinal))
            writer.Setting(key, TomlWriter.Quote(value));
    }
}
