using System.Text.Json;
using System.Text.Json.Nodes;
using Appliance.Cli.CommandLine;

namespace Appliance.Cli.Model;

/// <summary>
/// Edits of the dynamic configuration (the <c>config</c> key's JSON object), pure:
/// <c>--set a.b.c=value</c> as ctl.py's <c>apply_config_changes</c> (a dotted path; under
/// <c>postgresql.parameters</c> the rest of the path is one parameter name, since GUCs may hold dots;
/// the value is JSON when it parses as JSON, else the string; <c>null</c> deletes, and a mapping left
/// empty is removed), and the patch that turns one configuration into another with Patroni's
/// <c>patch_config</c> semantics (nested objects merge, null deletes) for <c>PATCH /config</c>.
/// </summary>
internal static class ConfigEdit
{
    public static JsonObject Apply(JsonObject config, IEnumerable<string> pairs)
    {
        var result = (JsonObject)config.DeepClone();
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var path = eq > 0 ? pair[..eq].Trim() : "";
            if (eq <= 0 || path.Length == 0 || path.Split('.').Any(p => p.Length == 0))
                throw CtlException.UsageError($"invalid setting '{pair}': expected key.path=value (e.g. --set loop_wait=10, --pg work_mem=8MB)");
            Set(result, path.Split('.'), ParseValue(pair[(eq + 1)..]), []);
        }
        return result;
    }

    /// <summary>JSON when the text is a JSON value (<c>10</c>, <c>true</c>, <c>null</c>, <c>"x"</c>, <c>{...}</c>), else the text itself.</summary>
    public static JsonNode? ParseValue(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0) return JsonValue.Create(text);
        try
        {
            return JsonNode.Parse(trimmed);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }

    private static void Set(JsonObject o, string[] path, JsonNode? value, string[] prefix)
    {
        if (prefix is ["postgresql", "parameters"]) path = [string.Join('.', path)];
        var key = path[0];
        if (path.Length == 1)
        {
            if (value is null) o.Remove(key);
            else o[key] = value.DeepClone();
            return;
        }
        if (o[key] is not JsonObject child) o[key] = child = [];
        Set(child, path[1..], value, [.. prefix, key]);
        if (child.Count == 0) o.Remove(key);
    }

    /// <summary>
    /// The smallest body for <c>PATCH /config</c> that turns <paramref name="before"/> into
    /// <paramref name="after"/>: removed keys as null, changed objects as their own patch, other
    /// changed values whole. Null when nothing changed.
    /// </summary>
    public static JsonObject? Patch(JsonObject before, JsonObject after)
    {
        var patch = new JsonObject();
        foreach (var (k, old) in before)
            if (!after.ContainsKey(k)) patch[k] = null;
        foreach (var (k, now) in after)
        {
            if (!before.TryGetPropertyValue(k, out var old))
                patch[k] = now?.DeepClone();
            else if (old is JsonObject o1 && now is JsonObject o2)
            {
                if (Patch(o1, o2) is { } inner) patch[k] = inner;
            }
            else if (!JsonNode.DeepEquals(old, now))
                patch[k] = now?.DeepClone();
        }
        return patch.Count == 0 ? null : patch;
    }
}
