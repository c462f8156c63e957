using System.Text.Json;
using System.Text.Json.Nodes;

namespace Appliance.Cluster;

/// <summary>Reading and changing the <c>config</c> key (Patroni's dynamic configuration), kept as JSON.</summary>
public static class DynamicConfig
{
    /// <summary><c>"pause": true</c>: maintenance mode, no automatic action.</summary>
    public static bool IsPaused(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return false;
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("pause", out var p) && p.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Patroni's PATCH semantics (a JSON merge patch, RFC 7386): objects merge key by key, a <c>null</c>
    /// deletes the key, anything else replaces. Throws <see cref="JsonException"/> for a patch that is not an object.
    /// </summary>
    public static string Merge(string? current, string patch)
    {
        var target = (string.IsNullOrWhiteSpace(current) ? null : JsonNode.Parse(current)) as JsonObject ?? [];
        if (JsonNode.Parse(patch) is not JsonObject p) throw new JsonException("the patch must be a JSON object");
        MergeInto(target, p);
        return target.ToJsonString();
    }

    static void MergeInto(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null) target.Remove(key);
            else if (value is JsonObject po && target[key] is JsonObject to) MergeInto(to, po);
            else
            {
                patch.Remove(key);
                target[key] = value;
            }
        }
    }
}
