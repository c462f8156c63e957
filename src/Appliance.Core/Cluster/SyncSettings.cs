using System.Globalization;
using System.Text.Json;

namespace Appliance.Cluster;

/// <summary>
/// Synchronous replication as the dynamic configuration (<c>config</c> key) sets it, cluster-wide:
/// <c>synchronous_mode</c>, <c>synchronous_mode_strict</c>, <c>synchronous_node_count</c>,
/// <c>maximum_lag_on_syncnode</c>. Read every cycle, so <c>appliancectl edit-config</c> takes effect at once.
/// </summary>
public sealed record SyncSettings
{
    public static SyncSettings Off { get; } = new();

    /// <summary><c>synchronous_mode</c>: commits wait for the standbys in the <c>sync</c> key, and only they may be promoted automatically.</summary>
    public bool Enabled { get; init; }
    /// <summary><c>synchronous_mode_strict</c>: with no synchronous standby left, writes block (<c>synchronous_standby_names = '*'</c>) instead of going on unprotected.</summary>
    public bool Strict { get; init; }
    /// <summary><c>synchronous_node_count</c>: how many standbys must confirm each commit (at least 1).</summary>
    public int NodeCount { get; init; } = 1;
    /// <summary><c>maximum_lag_on_syncnode</c>: bytes a synchronous standby may fall behind before another replaces it; 0 or less never swaps.</summary>
    public long MaximumLagOnSyncNode { get; init; } = -1;

    /// <summary>Reads the settings from the <c>config</c> key's JSON; absent or malformed values keep their defaults.</summary>
    public static SyncSettings From(string? configJson)
    {
        if (string.IsNullOrWhiteSpace(configJson)) return Off;
        try
        {
            using var doc = JsonDocument.Parse(configJson);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Off;
            return new SyncSettings
            {
                Enabled = Truthy(root, "synchronous_mode"),
                Strict = Truthy(root, "synchronous_mode_strict"),
                NodeCount = (int)Math.Clamp(Number(root, "synchronous_node_count") ?? 1, 1, 1024),
                MaximumLagOnSyncNode = Number(root, "maximum_lag_on_syncnode") ?? -1,
            };
        }
        catch (JsonException)
        {
            return Off;
        }
    }

    /// <summary>Patroni takes Python truthiness; YAML-minded operators also write "on" or "true".</summary>
    static bool Truthy(JsonElement o, string key) => o.TryGetProperty(key, out var v) && v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.String => v.GetString()?.Trim().ToLowerInvariant() is "on" or "true" or "yes" or "1",
        JsonValueKind.Number => v.TryGetDouble(out var d) && d != 0,
        _ => false,
    };

    static long? Number(JsonElement o, string key) => !o.TryGetProperty(key, out var v) ? null : v.ValueKind switch
    {
        JsonValueKind.Number when v.TryGetInt64(out var n) => n,
        JsonValueKind.String when long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
        _ => null,
    };
}
