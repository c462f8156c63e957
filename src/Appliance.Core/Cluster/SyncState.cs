using System.Collections.Immutable;
using System.Text.Json;

namespace Appliance.Cluster;

/// <summary>
/// The <c>sync</c> key as Patroni writes it: <c>{"leader": "db1", "sync_standby": "db2,db3"}</c>. The leader
/// lists only standbys it has seen confirm every commit since they were named in
/// <c>synchronous_standby_names</c>, so while synchronous mode is on, exactly these nodes (and the leader
/// named here) hold every acknowledged transaction and may be promoted automatically.
/// </summary>
public sealed record SyncState(string? Leader, ImmutableArray<string> Members, long Version)
{
    public static SyncState Empty { get; } = new(null, [], 0);

    /// <summary>No leader named: the key is absent or unreadable (Patroni's <c>is_empty</c>).</summary>
    public bool IsEmpty => Leader is null;

    /// <summary>The node is the leader named in the key or one of its synchronous standbys (case-insensitive, as PostgreSQL compares standby names).</summary>
    public bool Matches(string? name)
        => name is not null && !IsEmpty && (string.Equals(Leader, name, StringComparison.OrdinalIgnoreCase)
            || Members.Any(m => string.Equals(m, name, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The node is one of the synchronous standbys (not the leader).</summary>
    public bool IsSyncStandby(string? name)
        => name is not null && Members.Any(m => string.Equals(m, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads the key; anything that is not an object with a string <c>leader</c> is an empty state (Patroni does the same).</summary>
    public static SyncState Parse(string? json, long version)
    {
        if (string.IsNullOrWhiteSpace(json)) return Empty with { Version = version };
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("leader", out var l) || l.ValueKind != JsonValueKind.String)
                return Empty with { Version = version };
            var members = root.TryGetProperty("sync_standby", out var s) && s.ValueKind == JsonValueKind.String
                ? s.GetString()!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToImmutableArray()
                : [];
            return new(l.GetString(), members, version);
        }
        catch (JsonException)
        {
            return Empty with { Version = version };
        }
    }

    /// <summary>The key's value: members sorted and comma-joined, or <c>null</c> when there are none (Patroni's <c>sync_state</c>).</summary>
    public static string ToJson(string leader, IEnumerable<string> members)
    {
        var list = members.Order(StringComparer.Ordinal).ToList();
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("leader", leader);
            if (list.Count == 0) w.WriteNull("sync_standby");
            else w.WriteString("sync_standby", string.Join(',', list));
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
