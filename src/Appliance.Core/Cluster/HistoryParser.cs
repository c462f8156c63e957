using System.Text.Json;

namespace Appliance.Cluster;

/// <summary>Reads Patroni's <c>history</c> value: <c>[[timeline, lsn, reason, timestamp, new_leader], ...]</c>.</summary>
public static class HistoryParser
{
    /// <summary>The timeline of the last entry (the timeline that ended last), or null when empty or unreadable.</summary>
    public static long? LastTimeline(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            long? last = null;
            if (doc.RootElement.ValueKind != JsonValueKind.Array) return null;
            foreach (var e in doc.RootElement.EnumerateArray())
                if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() > 0 && e[0].TryGetInt64(out var tl))
                    last = Math.Max(last ?? 0, tl);
            return last;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Appends the entry for a promotion that ended <paramref name="endedTimeline"/> at <paramref name="lsn"/>.</summary>
    public static string Append(string? json, long endedTimeline, long lsn, DateTimeOffset at, string newLeader)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartArray();
            if (!string.IsNullOrEmpty(json))
            {
                try
                {
                    using var doc = JsonDocument.Parse(json);
                    if (doc.RootElement.ValueKind == JsonValueKind.Array)
                        foreach (var e in doc.RootElement.EnumerateArray())
                            if (!(e.ValueKind == JsonValueKind.Array && e.GetArrayLength() > 0 && e[0].TryGetInt64(out var tl) && tl >= endedTimeline))
                                e.WriteTo(w);
                }
                catch (JsonException)
                {
                    // An unreadable history is replaced rather than kept broken.
                }
            }
            w.WriteStartArray();
            w.WriteNumberValue(endedTimeline);
            w.WriteNumberValue(lsn);
            w.WriteStringValue("no recovery target specified");
            w.WriteStringValue(at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff+00:00", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteStringValue(newLeader);
            w.WriteEndArray();
            w.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
