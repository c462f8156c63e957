using System.Globalization;
using System.Text.Json;

namespace Appliance.Cluster;

/// <summary>
/// The <c>failover</c> key as Patroni writes it: <c>{"leader":"db1","member":"db2","scheduled_at":"..."}</c>.
/// A switchover names the leader it moves away from; a failover may name only the candidate.
/// </summary>
public sealed record FailoverRequest(string? Leader, string? Member, DateTimeOffset? ScheduledAt, long Version)
{
    /// <summary>Null when the key is absent, empty (<c>{}</c>, Patroni's "nothing requested") or unreadable.</summary>
    public static FailoverRequest? From(ClusterSnapshot c)
    {
        if (string.IsNullOrWhiteSpace(c.FailoverJson)) return null;
        try
        {
            using var doc = JsonDocument.Parse(c.FailoverJson);
            var r = doc.RootElement;
            if (r.ValueKind != JsonValueKind.Object) return null;
            var leader = Str(r, "leader");
            var member = Str(r, "member");
            DateTimeOffset? at = Str(r, "scheduled_at") is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
            return leader is null && member is null ? null : new FailoverRequest(leader, member, at, c.FailoverVersion);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The JSON Patroni writes (compact, absent fields omitted).</summary>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (Leader is not null) w.WriteString("leader", Leader);
            if (Member is not null) w.WriteString("member", Member);
            if (ScheduledAt is { } at) w.WriteString("scheduled_at", at.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    static string? Str(JsonElement r, string name)
        => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;
}
