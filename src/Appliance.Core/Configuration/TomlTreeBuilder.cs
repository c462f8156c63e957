using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Appliance.Configuration;

/// <summary>
/// Turns one file's text into a <see cref="TomlTableNode"/> through Tomlyn's syntax parser, which
/// keeps the line and column of every key and value and uses no reflection (safe under AOT).
/// </summary>
internal static class TomlTreeBuilder
{
    /// <summary>The file's tree, or null after adding its syntax errors to <paramref name="errors"/>.</summary>
    public static TomlTableNode? Parse(string file, int fileIndex, string text, ErrorList errors)
    {
        DocumentSyntax document;
        try
        {
            document = SyntaxParser.Parse(text, file, validate: true);
        }
        catch (Exception ex)
        {
            // Bad input must give an error, never a crash: a parser bug is reported like a syntax error.
            errors.Add(new SourceLocation(file, fileIndex, 0, 0), "", $"not valid TOML: {ex.Message}");
            return null;
        }

        if (document.HasErrors)
        {
            foreach (var diagnostic in document.Diagnostics)
            {
                if (diagnostic.Kind == DiagnosticMessageKind.Error)
                    errors.Add(At(file, fileIndex, diagnostic.Span), "", $"TOML syntax error: {diagnostic.Message}");
            }
            return null;
        }

        var builder = new Builder(file, fileIndex, errors);
        var root = new TomlTableNode(new SourceLocation(file, fileIndex, 1, 1));
        var ok = true;
        foreach (var keyValue in document.KeyValues)
            ok &= builder.AddKeyValue(root, "", keyValue);
        foreach (var table in document.Tables)
            ok &= builder.AddTable(root, table);
        return ok ? root : null;
    }

    private static SourceLocation At(string file, int fileIndex, SourceSpan span) =>
        new(file, fileIndex, span.Start.Line + 1, span.Start.Column + 1);

    private sealed class Builder(string file, int fileIndex, ErrorList errors)
    {
        private SourceLocation At(SyntaxNodeBase? node) =>
            node is null ? new SourceLocation(file, fileIndex, 0, 0) : TomlTreeBuilder.At(file, fileIndex, node.Span);

        /// <summary><c>[a.b]</c> or <c>[[a.b]]</c>: finds or creates the table, then adds its keys.</summary>
        public bool AddTable(TomlTableNode root, TableSyntaxBase table)
        {
            var parts = KeyParts(table.Name);
            if (parts is null || parts.Count == 0)
                return Fail(table, "", "a table header without a name");

            var path = string.Join('.', parts);
            var parent = Descend(root, "", parts, parts.Count - 1, table.Name!);
            if (parent is null)
                return false;

            var last = parts[^1];
            var location = At(table.Name);
            TomlTableNode target;
            if (table is TableArraySyntax)
            {
                // [[name]]: each header appends one table to the array.
                target = new TomlTableNode(location);
                if (parent.TryGet(last, out var existing) && existing.Value is TomlArray array)
                    array.Items.Add(target);
                else
                    parent.Set(last, new TomlEntry(location, new TomlArray(location, [target])));
            }
            else if (parent.TryGet(last, out var existing))
            {
                if (existing.Value is not TomlTableNode existingTable)
                    return Fail(table.Name, path, "defined twice: already a value, here a table");
                target = existingTable;
            }
            else
            {
                target = new TomlTableNode(location);
                parent.Set(last, new TomlEntry(location, target));
            }

            var ok = true;
            foreach (var keyValue in table.Items)
                ok &= AddKeyValue(target, path, keyValue);
            return ok;
        }

        /// <summary><c>a.b = value</c> inside <paramref name="table"/>, whose dotted path is <paramref name="tablePath"/>.</summary>
        public bool AddKeyValue(TomlTableNode table, string tablePath, KeyValueSyntax keyValue)
        {
            var parts = KeyParts(keyValue.Key);
            if (parts is null || parts.Count == 0 || keyValue.Value is null)
                return Fail(keyValue, tablePath, "a key without a name or a value");

            var parent = Descend(table, tablePath, parts, parts.Count - 1, keyValue.Key!);
            if (parent is null)
                return false;
            var path = Join(tablePath, string.Join('.', parts));
            var value = Convert(keyValue.Value, path);
            if (value is null)
                return false;
            parent.Set(parts[^1], new TomlEntry(At(keyValue.Key), value));
            return true;
        }

        /// <summary>Walks (and creates) the tables named by the first <paramref name="count"/> parts below <paramref name="table"/>, whose dotted path is <paramref name="tablePath"/>.</summary>
        private TomlTableNode? Descend(TomlTableNode table, string tablePath, List<string> parts, int count, SyntaxNode where)
        {
            var path = tablePath;
            for (var i = 0; i < count; i++)
            {
                path = Join(path, parts[i]);
                if (!table.TryGet(parts[i], out var entry))
                {
                    var created = new TomlTableNode(At(where));
                    table.Set(parts[i], new TomlEntry(At(where), created));
                    table = created;
                }
                else if (entry.Value is TomlTableNode next)
                {
                    table = next;
                }
                else if (entry.Value is TomlArray { Items: [.., TomlTableNode lastOfArray] })
                {
                    // [a.b] after [[a]] names a table inside the last element of the array.
                    table = lastOfArray;
                }
                else
                {
                    Fail(where, path, "defined twice: already a value, here a table");
                    return null;
                }
            }
            return table;
        }

        private TomlNode? Convert(ValueSyntax value, string path)
        {
            var at = At(value);
            switch (value)
            {
                case StringValueSyntax s:
                    return new TomlScalar(at, TomlScalarKind.String, s.Value ?? "");
                case IntegerValueSyntax i:
                    return new TomlScalar(at, TomlScalarKind.Integer, i.Value);
                case FloatValueSyntax f:
                    return new TomlScalar(at, TomlScalarKind.Float, f.Value);
                case BooleanValueSyntax b:
                    return new TomlScalar(at, TomlScalarKind.Boolean, b.Value);
                case DateTimeValueSyntax d:
                    return new TomlScalar(at, TomlScalarKind.DateTime, d.Token?.Text ?? d.Value.ToString());
                case ArraySyntax a:
                    var items = new List<TomlNode>();
                    foreach (var item in a.Items)
                    {
                        if (item.Value is null)
                            continue;
                        var converted = Convert(item.Value, path);
                        if (converted is null)
                            return null;
                        items.Add(converted);
                    }
                    return new TomlArray(at, items);
                case InlineTableSyntax t:
                    var table = new TomlTableNode(at);
                    foreach (var item in t.Items)
                    {
                        if (item.KeyValue is not null && !AddKeyValue(table, path, item.KeyValue))
                            return null;
                    }
                    return table;
                default:
                    Fail(value, path, $"unsupported TOML value ({value.Kind})");
                    return null;
            }
        }

        private static List<string>? KeyParts(KeySyntax? key)
        {
            if (key?.Key is null)
                return null;
            var parts = new List<string> { KeyText(key.Key) };
            foreach (var dotted in key.DotKeys)
            {
                if (dotted.Key is null)
                    return null;
                parts.Add(KeyText(dotted.Key));
            }
            return parts;
        }

        private static string KeyText(BareKeyOrStringValueSyntax key) => key switch
        {
            BareKeySyntax bare => bare.Key?.Text ?? "",
            StringValueSyntax quoted => quoted.Value ?? "",
            _ => "",
        };

        private bool Fail(SyntaxNodeBase? where, string key, string message)
        {
            errors.Add(At(where), key, message);
            return false;
        }
    }

    internal static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";
}
