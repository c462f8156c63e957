using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Appliance.Cluster;

/// <summary>
/// <c>postgresql.parameters</c> of the dynamic configuration (the <c>config</c> key), as postgresql.conf
/// values. Patroni writes them as JSON strings, numbers or booleans (<c>"max_connections": 100</c>,
/// <c>"hot_standby": "on"</c>); anything else cannot be a setting and is listed in <see cref="Ignored"/>.
/// </summary>
/// <param name="Values">Setting name → value text, in name order.</param>
/// <param name="Ignored">The names whose JSON values were objects or arrays, with what they were.</param>
public sealed record DynamicParameters(ImmutableSortedDictionary<string, string> Values, ImmutableArray<string> Ignored)
{
    public static DynamicParameters Empty { get; } = new(ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal), []);

    /// <summary>
    /// Reads <c>postgresql.parameters</c> from the config JSON. A missing or malformed key (or a <c>null</c>
    /// value) means no dynamic setting: the node then runs with its defaults and local TOML.
    /// </summary>
    public static DynamicParameters From(string? configJson)
    {
        if (string.IsNullOrWhiteSpace(configJson)) return Empty;
        try
        {
            using var doc = JsonDocument.Parse(configJson);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("postgresql", out var pg) || pg.ValueKind != JsonValueKind.Object
                || !pg.TryGetProperty("parameters", out var ps) || ps.ValueKind != JsonValueKind.Object)
                return Empty;
            var values = Empty.Values.ToBuilder();
            var ignored = ImmutableArray.CreateBuilder<string>();
            foreach (var p in ps.EnumerateObject())
            {
                switch (p.Value.ValueKind)
                {
                    case JsonValueKind.String: values[p.Name] = p.Value.GetString()!; break;
                    // The number as written ("100", "0.5"): PostgreSQL parses it, units and all.
                    case JsonValueKind.Number: values[p.Name] = p.Value.GetRawText(); break;
                    case JsonValueKind.True: values[p.Name] = "on"; break;
                    case JsonValueKind.False: values[p.Name] = "off"; break;
                    case JsonValueKind.Null: break;
                    default: ignored.Add(string.Create(CultureInfo.InvariantCulture, $"{p.Name} (an {p.Value.ValueKind.ToString().ToLowerInvariant()})")); break;
                }
            }
            return new(values.ToImmutable(), ignored.ToImmutable());
        }
        catch (JsonException)
        {
            return Empty;
        }
    }
}
