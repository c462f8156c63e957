using System.Text.Json.Serialization;

namespace Appliance.Cluster;

/// <summary>
/// The JSON value of <c>/namespace/scope/members/&lt;name&gt;</c>, exactly as Patroni 3 writes it
/// (compact, snake_case, absent fields omitted). patronictl and HAProxy-less tooling read it.
/// </summary>
public sealed record MemberData
{
    /// <summary><c>postgres://host:port/postgres</c></summary>
    [JsonPropertyName("conn_url")] public string ConnUrl { get; init; } = "";
    /// <summary><c>http://host:port/patroni</c></summary>
    [JsonPropertyName("api_url")] public string ApiUrl { get; init; } = "";
    /// <summary>running, starting, stopped, crashed, creating replica, initializing new cluster, ...</summary>
    [JsonPropertyName("state")] public string State { get; init; } = "";
    /// <summary><c>master</c> or <c>replica</c> (Patroni 3.0 still writes <c>master</c>).</summary>
    [JsonPropertyName("role")] public string Role { get; init; } = "";
    [JsonPropertyName("version")] public string Version { get; init; } = "";
    /// <summary>WAL position: current LSN on a primary, the larger of received and replayed on a replica.</summary>
    [JsonPropertyName("xlog_location")] public long? XlogLocation { get; init; }
    [JsonPropertyName("timeline")] public long? Timeline { get; init; }
    [JsonPropertyName("replay_lsn")] public long? ReplayLsn { get; init; }
    [JsonPropertyName("receive_lsn")] public long? ReceiveLsn { get; init; }
    [JsonPropertyName("pending_restart")] public bool? PendingRestart { get; init; }
    /// <summary>True while this node sees the cluster paused (maintenance mode); patronictl waits on it.</summary>
    [JsonPropertyName("pause")] public bool? Pause { get; init; }
    /// <summary>The restart an operator scheduled on this node, while it waits (patronictl list shows it).</summary>
    [JsonPropertyName("scheduled_restart")] public ScheduledRestartData? ScheduledRestart { get; init; }
    /// <summary>Only the tags that differ from their defaults, as Patroni does.</summary>
    [JsonPropertyName("tags")] public Dictionary<string, JsonTagValue>? Tags { get; init; }

    /// <summary>
    /// The value as it goes to etcd. Python's json leaves <c>+</c> (in timestamps' offsets) and non-ASCII
    /// as they are; the default encoder would write <c>\u002B</c>.
    /// </summary>
    public string ToJson()
    {
        using var ms = new System.IO.MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(ms, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            System.Text.Json.JsonSerializer.Serialize(w, this, ClusterJson.Default.MemberData);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}

/// <summary>
/// Patroni's <c>scheduled_restart</c> member field: the request's filters, the moment (Python's
/// <c>isoformat()</c>) and the postmaster start time when it was scheduled.
/// </summary>
public sealed record ScheduledRestartData
{
    [JsonPropertyName("schedule")] public string Schedule { get; init; } = "";
    [JsonPropertyName("role")] public string? Role { get; init; }
    [JsonPropertyName("postgres_version")] public string? PostgresVersion { get; init; }
    [JsonPropertyName("restart_pending")] public bool? RestartPending { get; init; }
    [JsonPropertyName("timeout")] public int? Timeout { get; init; }
    [JsonPropertyName("postmaster_start_time")] public string? PostmasterStartTime { get; init; }
}

/// <summary>A tag value: Patroni tags are booleans, numbers or strings.</summary>
[JsonConverter(typeof(JsonTagValueConverter))]
public readonly record struct JsonTagValue(System.Text.Json.JsonElement Value)
{
    public static implicit operator JsonTagValue(bool b) => new(System.Text.Json.JsonSerializer.SerializeToElement(b, ClusterJson.Default.Boolean));
    public static implicit operator JsonTagValue(int i) => new(System.Text.Json.JsonSerializer.SerializeToElement(i, ClusterJson.Default.Int32));
    public bool IsTrue => Value.ValueKind == System.Text.Json.JsonValueKind.True;
    public long? AsInt64 => Value.ValueKind == System.Text.Json.JsonValueKind.Number && Value.TryGetInt64(out var v) ? v : null;
}

internal sealed class JsonTagValueConverter : JsonConverter<JsonTagValue>
{
    public override JsonTagValue Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
        => new(System.Text.Json.JsonElement.ParseValue(ref reader));
    public override void Write(System.Text.Json.Utf8JsonWriter writer, JsonTagValue value, System.Text.Json.JsonSerializerOptions options)
        => value.Value.WriteTo(writer);
}
