using Appliance.Configuration;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

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
    private readonly GrpcChannel _channel;
    private readonly EtcdClient _client;
    private readonly EtcdAuth? _auth;

    private EtcdAdmin(EtcdSection etcd, ClusterSection cluster)
    {
        Keys = new EtcdKeys(cluster.Namespace, cluster.Scope);
        _auth = string.IsNullOrEmpty(etcd.Username) ? null : new EtcdAuth(etcd.Username, etcd.Password ?? "");
        _channel = EtcdChannel.Create(etcd, _auth);
        var invoker = _channel.CreateCallInvoker();
        _auth?.Attach(invoker);
        _client = new EtcdClient(invoker);
    }

    /// <summary>An admin client for the cluster <c>cluster.scope</c> at <c>etcd.endpoints</c>. Connects lazily.</summary>
    public static EtcdAdmin Create(EtcdSection etcd, ClusterSection cluster) => new(etcd, cluster);

    /// <summary>The key schema of this cluster.</summary>
    public EtcdKeys Keys { get; }

    /// <summary>The key's value and revision, or null when absent.</summary>
    public async Task<EtcdValue?> GetAsync(string key, CancellationToken ct)
    {
        var r = await CallAsync(() => _client.GetAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, cancellationToken: ct));
        return r.Kvs.Count == 0 ? null : new EtcdValue(key, r.Kvs[0].Value.ToStringUtf8(), r.Kvs[0].ModRevision);
    }

    /// <summary>Every key under <paramref name="prefix"/>, in key order.</summary>
    public async Task<IReadOnlyList<EtcdValue>> GetPrefixAsync(string prefix, CancellationToken ct)
    {
        var p = ByteString.CopyFromUtf8(prefix);
        var r = await CallAsync(() => _client.GetAsync(new RangeRequest { Key = p, RangeEnd = ByteString.CopyFrom(EtcdKeys.RangeEnd(p.Span)) }, cancellationToken: ct));
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
        var r = await CallAsync(() => _client.TransactionAsync(txn, cancellationToken: ct));
        return r.Succeeded;
    }

    public void Dispose() => _channel.Dispose();

    private Task<T> CallAsync<T>(Func<Task<T>> call) => EtcdAuth.CallAsync(_auth, call);
}
