using System.Collections.Immutable;
using System.Text.Json;
using Appliance.Cluster;
using Mvccpb;
using Member = Appliance.Cluster.Member;

namespace Appliance.Etcd;

/// <summary>
/// Patroni's key layout under one cluster prefix, read into a <see cref="ClusterSnapshot"/>: shared by
/// the agent's store (one range read per cycle) and the proxy's read-only watch (the keys it holds
/// after a range read and the watch events since).
/// </summary>
internal static class ClusterKeysParser
{
    /// <param name="keys">The cluster's key schema.</param>
    /// <param name="revision">The etcd revision the keys were read at.</param>
    /// <param name="kvs">Every key under the prefix, in any order.</param>
    /// <param name="badMember">Called with the key of each member value that is not a member's JSON (it is skipped).</param>
    public static ClusterSnapshot Parse(EtcdKeys keys, long revision, IEnumerable<KeyValue> kvs, Action<string>? badMember)
    {
        string? initialize = null, config = null, history = null, failover = null, sync = null;
        string? status = null, legacyOptime = null;
        long configVersion = 0, failoverVersion = 0, syncVersion = 0;
        LeaderLock? leader = null;
        var members = ImmutableArray.CreateBuilder<Member>();
        var prefixLength = keys.Prefix.Length;
        foreach (var kv in kvs)
        {
            var key = kv.Key.ToStringUtf8();
            if (!key.StartsWith(keys.Prefix, StringComparison.Ordinal)) continue;
            var value = kv.Value.ToStringUtf8();
            switch (key[prefixLength..])
            {
                case EtcdKeys.InitializeName: initialize = value; break;
                case EtcdKeys.ConfigName: config = value; configVersion = kv.ModRevision; break;
                case EtcdKeys.HistoryName: history = value; break;
                case EtcdKeys.FailoverName: failover = value; failoverVersion = kv.ModRevision; break;
                case EtcdKeys.SyncName: sync = value; syncVersion = kv.ModRevision; break;
                case EtcdKeys.StatusName: status = value; break;
                case EtcdKeys.LegacyLeaderOptimeName: legacyOptime = value; break;
                case EtcdKeys.LeaderName: leader = new LeaderLock(value, kv.ModRevision, kv.Lease); break;
                default:
                    if (keys.MemberNameOf(key) is not { } name) break;
                    if (ParseMember(value) is { } data) members.Add(new Member(name, data));
                    else badMember?.Invoke(key);
                    break;
            }
        }
        members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new ClusterSnapshot
        {
            Revision = revision,
            Initialize = initialize,
            Leader = leader,
            Members = members.ToImmutable(),
            ConfigJson = config,
            ConfigVersion = configVersion,
            FailoverVersion = failoverVersion,
            HistoryJson = history,
            LastLsn = ParseOptime(status, legacyOptime),
            FailoverJson = failover,
            SyncJson = sync,
            SyncVersion = syncVersion,
        };
    }

    public static MemberData? ParseMember(string value)
    {
        try
        {
            return JsonSerializer.Deserialize(value, ClusterJson.Default.MemberData);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Patroni: <c>status</c>'s <c>optime</c>, else the legacy <c>optime/leader</c> value.</summary>
    public static long? ParseOptime(string? status, string? legacy)
    {
        if (status is not null)
        {
            try
            {
                return JsonSerializer.Deserialize(status, ClusterJson.Default.StatusData)?.Optime;
            }
            catch (JsonException)
            {
                return null;
            }
        }
        return long.TryParse(legacy, out var v) ? v : null;
    }
}
