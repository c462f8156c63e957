using System.Globalization;
using System.Text;

namespace Appliance.Configuration;

/// <summary>Writes TOML text: tables, keys with their doc as a comment, quoted strings.</summary>
internal sealed class TomlWriter
{
    private readonly StringBuilder _text = new();

    /// <summary>
    /// A <c>[path]</c> header (<c>[[path]]</c> for an element of an array of tables), with a blank line
    /// before it and its doc above it; <paramref name="commentedOut"/> writes it as a comment (an empty array).
    /// </summary>
    public void Table(string path, string doc, bool arrayOfTables = false, bool commentedOut = false)
    {
        if (_text.Length > 0)
            _text.Append('\n');
        Comment(doc);
        var brackets = arrayOfTables ? 2 : 1;
        _text.Append(commentedOut ? "#" : "").Append('[', brackets).Append(string.Join('.', path.Split('.').Select(BareOrQuoted)))
            .Append(']', brackets).Append(commentedOut ? " (none)" : "").Append('\n');
    }

    /// <summary>A documented key; an unset value (null) is written as a comment so the output still loads.</summary>
    public void Key(string name, string doc, string? tomlValue)
    {
        Comment(doc);
        if (tomlValue is null)
            _text.Append('#').Append(BareOrQuoted(name)).Append(" = (not set)\n");
        else
            _text.Append(BareOrQuoted(name)).Append(" = ").Append(tomlValue).Append('\n');
    }

    /// <summary>A key of an open table, without a doc.</summary>
    public void Setting(string name, string tomlValue) =>
        _text.Append(BareOrQuoted(name)).Append(" = ").Append(tomlValue).Append('\n');

    public override string ToString() => _text.ToString();

    /// <summary>A <c># comment</c> line (nothing for an empty text).</summary>
    public void Comment(string doc)
    {
        if (doc.Length > 0)
            _text.Append("# ").Append(doc).Append('\n');
    }

    /// <summary>A TOML basic string: quotes, backslashes and control characters escaped.</summary>
    public static string Quote(string value)
    {
        var quoted = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\t': quoted.Append("\\t"); break;
                case '\b': quoted.Append("\\b"); break;
                case '\f': quoted.Append("\\f"); break;
                default:
                    if (char.IsControl(c))
                        quoted.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else
                        quoted.Append(c);
                    break;
            }
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>A key as written: bare when TOML allows it (A-Z a-z 0-9 _ -), quoted otherwise.</summary>
    public static string BareOrQuoted(string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-') ? key : Quote(key);
}
