using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Appliance.Cli.Output;

/// <summary>
/// Block YAML as patronictl prints configuration (<c>yaml.safe_dump(data, default_flow_style=False)</c>):
/// keys sorted, nested mappings indented by two, sequence items at their key's indent, and a string
/// single-quoted whenever YAML 1.1 would read it back as something else (<c>'on'</c>, <c>'10'</c>, <c>''</c>).
/// Only the JSON subset of YAML is produced.
/// </summary>
internal static partial class Yaml
{
    public static string Write(JsonNode? node)
    {
        var sb = new StringBuilder();
        switch (node)
        {
            case JsonObject { Count: > 0 } o: Mapping(sb, o, 0); break;
            case JsonArray { Count: > 0 } a: Sequence(sb, a, 0); break;
            default: sb.Append(Scalar(node)).Append('\n'); break;
        }
        return sb.ToString();
    }

    /// <summary>A mapping in flow style (<c>default_flow_style=True</c>): <c>{a: 1, b: x}</c>, keys sorted.</summary>
    public static string Flow(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(", ", o.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{Str(kv.Key)}: {Flow(kv.Value)}")) + "}",
        JsonArray a => "[" + string.Join(", ", a.Select(Flow)) + "]",
        _ => Scalar(node),
    };

    private static void Mapping(StringBuilder sb, JsonObject o, int indent, bool firstInline = false)
    {
        var first = true;
        foreach (var (key, value) in o.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!(first && firstInline)) sb.Append(' ', indent);
            first = false;
            sb.Append(Str(key)).Append(':');
            switch (value)
            {
                case JsonObject { Count: > 0 } child:
                    sb.Append('\n');
                    Mapping(sb, child, indent + 2);
                    break;
                case JsonArray { Count: > 0 } items:
                    sb.Append('\n');
                    Sequence(sb, items, indent);
                    break;
                default:
                    sb.Append(' ').Append(Scalar(value)).Append('\n');
                    break;
            }
        }
    }

    private static void Sequence(StringBuilder sb, JsonArray a, int indent)
    {
        foreach (var item in a)
        {
            sb.Append(' ', indent).Append("- ");
            switch (item)
            {
                case JsonObject { Count: > 0 } o: Mapping(sb, o, indent + 2, firstInline: true); break;
                case JsonArray { Count: > 0 } inner:
                    sb.Append('\n');
                    Sequence(sb, inner, indent + 2);
                    break;
                default: sb.Append(Scalar(item)).Append('\n'); break;
            }
        }
    }

    private static string Scalar(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "{}",
        JsonArray => "[]",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => Str(v.GetValue<string>()),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            JsonValueKind.Null => "null",
            _ => v.ToJsonString(),
        },
        _ => node.ToJsonString(),
    };

    /// <summary>A string as a plain scalar when that reads back as the same string, else quoted.</summary>
    internal static string Str(string s)
    {
        if (s.Any(c => c < 0x20 || c == 0x7f))
            return Output.PyJson.Write(JsonValue.Create(s)); // double-quoted with escapes
        if (NeedsQuotes(s)) return "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";
        return s;
    }

    private static bool NeedsQuotes(string s) =>
        s.Length == 0
        || s != s.Trim()
        || "-?:,[]{}#&*!|>'\"%@`".Contains(s[0], StringComparison.Ordinal) && !(s[0] is '-' or '?' or ':' && s.Length > 1 && s[1] != ' ')
        || s.Contains(": ", StringComparison.Ordinal) || s.Contains(" #", StringComparison.Ordinal) || s.EndsWith(':')
        || Implicit().IsMatch(s);

    // YAML 1.1's implicit resolvers (PyYAML resolver.py): booleans, null, ints, floats, timestamps, merge, value.
    [GeneratedRegex(@"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|y|Y|n|N|~|null|Null|NULL|<<|=" +
        @"|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+" +
        @"|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*" +
        @"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)" +
        @"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)?)$")]
    private static partial Regex Implicit();
}
