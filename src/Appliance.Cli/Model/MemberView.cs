using Appliance.Cluster;

namespace Appliance.Cli.Model;

/// <summary>One member as patronictl shows it (utils.py <c>cluster_as_json</c>): raw role, host, lag in bytes.</summary>
internal sealed record MemberView
{
    public required string Name { get; init; }
    /// <summary><c>leader</c>, <c>standby_leader</c>, <c>sync_standby</c> or <c>replica</c>.</summary>
    public required string Role { get; init; }
    public required string State { get; init; }
    public string ApiUrl { get; init; } = "";
    public string? Host { get; init; }
    public int? Port { get; init; }
    public long? Timeline { get; init; }
    public bool PendingRestart { get; init; }
    /// <summary>The "Scheduled restart" cell: the moment, and " if version &lt; X" when it has that condition.</summary>
    public string? ScheduledRestart { get; init; }
    public IReadOnlyDictionary<string, JsonTagValue>? Tags { get; init; }
    /// <summary>Bytes behind the leader's last published position; null on the leader.</summary>
    public long? Lag { get; init; }
    /// <summary>True when the member has not published its WAL position (patronictl prints <c>unknown</c>).</summary>
    public bool LagUnknown { get; init; }
    public bool NoFailover { get; init; }
    public string? ReplicateFrom => Tags is { } t && t.TryGetValue("replicatefrom", out var v) && v.Value.ValueKind == System.Text.Json.JsonValueKind.String ? v.Value.GetString() : null;

    public bool IsLeader => Role.EndsWith("leader", StringComparison.Ordinal);
    /// <summary>"Leader", "Standby Leader", "Sync Standby", "Replica".</summary>
    public string RoleTitle => string.Join(' ', Role.Split('_').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]));
    /// <summary>Python's <c>round(lag/1024/1024)</c>: to the nearest MB, ties to even.</summary>
    public long? LagInMb => Lag is { } l ? (long)Math.Round(l / 1024.0 / 1024.0, MidpointRounding.ToEven) : null;
}
