using System.Collections.Immutable;

namespace Appliance.Cluster;

/// <summary>
/// One consistent, immutable view of the cluster keys, read once per HA cycle (one etcd range
/// read at <see cref="Revision"/>). Everything the decider knows about the others comes from here.
/// </summary>
public sealed record ClusterSnapshot
{
    /// <summary>The etcd revision the snapshot was read at.</summary>
    public long Revision { get; init; }
    /// <summary>The value of <c>initialize</c>: null when absent, "" while the winner of the bootstrap race runs initdb, then the system identifier.</summary>
    public string? Initialize { get; init; }
    /// <summary>The holder of the leader key, or null when nobody holds it.</summary>
    public LeaderLock? Leader { get; init; }
    public ImmutableArray<Member> Members { get; init; } = [];
    /// <summary>The raw JSON of <c>config</c> (Patroni's dynamic configuration), or null.</summary>
    public string? ConfigJson { get; init; }
    /// <summary>The revision <c>config</c> was last written at (0 when absent): the compare value of a conditional write.</summary>
    public long ConfigVersion { get; init; }
    /// <summary>The raw JSON of <c>history</c>: <c>[[timeline, lsn, reason, timestamp, new_leader], ...]</c>.</summary>
    public string? HistoryJson { get; init; }
    /// <summary><c>status</c>'s optime: the last WAL position the leader published.</summary>
    public long? LastLsn { get; init; }
    /// <summary>The raw JSON of <c>failover</c>, or null.</summary>
    public string? FailoverJson { get; init; }
    /// <summary>The revision <c>failover</c> was last written at (0 when absent).</summary>
    public long FailoverVersion { get; init; }
    /// <summary>The raw JSON of <c>sync</c>, or null.</summary>
    public string? SyncJson { get; init; }
    /// <summary>The revision <c>sync</c> was last written at (0 when absent).</summary>
    public long SyncVersion { get; init; }

    public bool IsInitialized => !string.IsNullOrEmpty(Initialize);
    /// <summary>Maintenance mode: <c>"pause": true</c> in the dynamic configuration.</summary>
    public bool IsPaused => DynamicConfig.IsPaused(ConfigJson);
    /// <summary>The <c>sync</c> key, parsed.</summary>
    public SyncState Sync => SyncState.Parse(SyncJson, SyncVersion);
    /// <summary>Synchronous replication as the dynamic configuration sets it.</summary>
    public SyncSettings SyncSettings => SyncSettings.From(ConfigJson);
    public Member? GetMember(string name) => Members.FirstOrDefault(m => m.Name == name);
    public Member? LeaderMember => Leader is null ? null : GetMember(Leader.Name);
}

/// <summary>The leader key: who holds it, and the revision it was last written at (the compare value of conditional writes).</summary>
public sealed record LeaderLock(string Name, long ModRevision, long LeaseId);

/// <summary>A member key: its name and its published data.</summary>
public sealed record Member(string Name, MemberData Data)
{
    /// <summary>Host and port parsed from <c>conn_url</c>.</summary>
    public (string Host, int Port)? PostgresEndpoint
    {
        get
        {
            if (!Uri.TryCreate(Data.ConnUrl, UriKind.Absolute, out var u)) return null;
            return (u.Host.Trim('[', ']'), u.Port > 0 ? u.Port : 5432);
        }
    }

    public bool IsRunning => Data.State == "running";
    public bool IsPrimaryRole => Data.Role is "master" or "primary";
    /// <summary>Never to be promoted: tagged <c>nofailover</c>, or <c>failover_priority</c> 0.</summary>
    public bool NoFailover => (Data.Tags is { } t && t.TryGetValue("nofailover", out var v) && v.IsTrue) || FailoverPriority <= 0;
    public bool CloneFrom => Data.Tags is { } t && t.TryGetValue("clonefrom", out var v) && v.IsTrue;
    /// <summary>Tagged <c>nosync</c>: never chosen as a synchronous standby.</summary>
    public bool NoSync => Data.Tags is { } t && t.TryGetValue("nosync", out var v) && v.IsTrue;
    public bool NoLoadBalance => Data.Tags is { } t && t.TryGetValue("noloadbalance", out var v) && v.IsTrue;
    public int FailoverPriority => Data.Tags is { } t && t.TryGetValue("failover_priority", out var v) && v.AsInt64 is { } p ? (int)p : 1;
}
