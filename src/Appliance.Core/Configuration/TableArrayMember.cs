namespace Appliance.Configuration;

/// <summary>
/// An array of tables (<c>[[vrrp]]</c>, or an inline <c>key = [{...}, {...}]</c>), each element bound to
/// a new <typeparamref name="TChild"/> by <paramref name="spec"/>. Errors name the element by its
/// 0-based index: <c>vrrp[1].priority</c>. Keys in <paramref name="required"/> must be in every element.
/// </summary>
internal sealed class TableArrayMember<T, TChild>(
    string name, TableSpec<TChild> spec, Func<TChild> create, string[] required,
    Func<T, IReadOnlyList<TChild>> get, Func<T, IReadOnlyList<TChild>, T> set)
    : IConfigMember<T>
{
    public string Name { get; } = name;
    public string Doc => spec.Doc;
    public bool IsTable => true;

    public T Bind(T target, TomlEntry entry, string path, ErrorList errors)
    {
        if (entry.Value is not TomlArray array || array.Items.Any(i => i is not TomlTableNode))
        {
            errors.Add(entry.Value.Location, path, $"expected an array of tables ([[{path}]]), found {ValueText.Describe(entry.Value)}");
            return target;
        }
        var items = new List<TChild>(array.Items.Count);
        for (var i = 0; i < array.Items.Count; i++)
        {
            var table = (TomlTableNode)array.Items[i];
            var itemPath = $"{path}[{i}]";
            foreach (var key in required)
            {
                if (!table.TryGet(key, out _))
                    errors.Add(table.Location, $"{itemPath}.{key}", $"required key missing in this [[{path}]] table");
            }
            items.Add(spec.Bind(create(), table, itemPath, errors));
        }
        return set(target, items);
    }

    public void Render(T source, string path, TomlWriter writer)
    {
        var items = get(source);
        if (items.Count == 0)
        {
            writer.Table(path, Doc, arrayOfTables: true, commentedOut: true);
            return;
        }
        foreach (var item in items)
        {
            writer.Table(path, Doc, arrayOfTables: true);
            spec.RenderBody(item, path, writer);
        }
    }
}
