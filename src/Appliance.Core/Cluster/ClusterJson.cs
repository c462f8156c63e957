using System.Text.Json.Serialization;

namespace Appliance.Cluster;

/// <summary>Source-generated JSON for every value that reaches etcd: compact, AOT-safe.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MemberData))]
[JsonSerializable(typeof(StatusData))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(string))]
public sealed partial class ClusterJson : JsonSerializerContext;

/// <summary>The JSON of the <c>status</c> key.</summary>
public sealed record StatusData([property: JsonPropertyName("optime")] long Optime);
