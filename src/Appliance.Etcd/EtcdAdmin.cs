using Appliance.Configuration;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;

namespace Appliance.Etcd;

/// <summary>One key as etcd holds it: its value and the revision it was last written at (0: absent).</summary>
public sealed record EtcdValue(string Key, string Value, long ModRevision);

/// <summary>
/// The operator's few direct writes (appliancectl, as patronictl's <c>set_config_value</c> and
/// <c>manual_failover</c>): read a key with its revision, and write it back only if nobody wrote it
/// since (a compare on <c>mod_revision</c>; 0 means "only if absent"). Used when no agent's REST API
/// answers. Holds no lease: these keys outlive the caller.
/// </summary>
public sealed class EtcdAdmin : IDisposable
{
    private readonly EtcdEndpoints _endpoints;

    private EtcdAdmin(EtcdSection etcd, ClusterSection cluster)
    {
        Keys = new EtcdKeys(cluster.Namespace, cluster.Scope);
        _endpoints = EtcdEndpoints.Connect(etcd);
    }

    /// <summary>An admin client for the cluster <c>cluster.scope</c> at <c>etcd.endpoints</c>. Connects lazily.</summary>
    public static EtcdAdmin Create(EtcdSection etcd, ClusterSection cluster) => new(etcd, cluster);

    /// <summary>The key schema of this cluster.</summary>
    public EtcdKeys Keys { get; }

    /// <summary>The key's value and revision, or null when absent.</summary>
    public async Task<EtcdValue?> GetAsync(string key, CancellationToken ct)
    {
        var r = await _endpoints.CallAsync((e, t) => e.Client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, cancellationToken: t), ct);
        return r.Kvs.Count == 0 ? null : new EtcdValue(key, r.Kvs[0].Value.ToStringUtf8(), r.Kvs[0].ModRevision);
    }

    /// <summary>Every key under <paramref name="prefix"/>, in key order.</summary>
    public async Task<IReadOnlyList<EtcdValue>> GetPrefixAsync(string prefix, CancellationToken ct)
    {
        var p = ByteString.CopyFromUtf8(prefix);
        var r = await _endpoints.CallAsync((e, t) => e.Client.GetAsync(new RangeRequest { Key = p, RangeEnd = ByteString.CopyFrom(EtcdKeys.RangeEnd(p.Span)) }, cancellationToken: t), ct);
        return r.Kvs.Select(kv => new EtcdValue(kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), kv.ModRevision)).ToList();
    }

    /// <summary>
    /// Writes <paramref name="value"/> only if the key's <c>mod_revision</c> is still
    /// <paramref name="expectedModRevision"/> (0: only if the key is absent). False when someone wrote it since.
    /// </summary>
    public async Task<bool> CompareAndSetAsync(string key, long expectedModRevision, string value, CancellationToken ct)
    {
        var k = ByteString.CopyFromUtf8(key);
        var txn = new TxnRequest();
        txn.Compare.Add(expectedModRevision == 0
            ? new Compare { Key = k, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 }
            : new Compare { Key = k, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expectedModRevision });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = k, Value = ByteString.CopyFromUtf8(value) } });
        // Repeated on another endpoint when an attempt gives no answer: a duplicate that finds the key
        // already holding this value after the expected revision is this write (see EtcdClusterStore.CasAsync).
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = k } });
        var r = await _endpoints.CallAsync((e, t) => e.Client.TransactionAsync(txn, cancellationToken: t), ct);
        return r.Succeeded || r.Responses is [{ ResponseRange.Kvs: [var kv] }] && kv.Value.ToStringUtf8() == value && kv.ModRevision > expectedModRevision;
    }

    public void Dispose() => _endpoints.Dispose();
}
