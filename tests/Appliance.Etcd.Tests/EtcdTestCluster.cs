using Appliance.Configuration;
using Appliance.TestKit;
using dotnet_etcd;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Appliance.Etcd.Tests;

/// <summary>One real etcd per test class, a raw client to look at and tamper with it, and stores on fresh scopes.</summary>
public sealed class EtcdTestCluster : IDisposable
{
    private readonly GrpcChannel _channel;

    public EtcdTestCluster()
    {
        Server = new EtcdServer();
        _channel = GrpcChannel.ForAddress(Server.Endpoint);
        Raw = new EtcdClient(_channel.CreateCallInvoker());
    }

    public EtcdServer Server { get; }

    /// <summary>A plain client for the tests' own reads and writes, apart from the stores under test.</summary>
    public EtcdClient Raw { get; }

    public EtcdSection Etcd => new() { Endpoints = [Server.Endpoint] };

    public static string NewScope() => "t" + Guid.NewGuid().ToString("N")[..12];

    public EtcdClusterStore Store(string scope, string member, int ttl = 30, string @namespace = "/service")
        => EtcdClusterStore.Create(Etcd, new ClusterSection { Scope = scope, Namespace = @namespace }, member, ttl, TimeProvider.System);

    public async Task<string?> GetAsync(string key)
    {
        var r = await Raw.GetAsync(key);
        return r.Count == 0 ? null : r.Kvs[0].Value.ToStringUtf8();
    }

    public async Task<IReadOnlyList<string>> KeysAsync(string prefix)
    {
        var r = await Raw.GetRangeAsync(prefix);
        return r.Kvs.Select(kv => kv.Key.ToStringUtf8()).ToList();
    }

    public Task PutAsync(string key, string value) => Raw.PutAsync(key, value);

    public Task DeleteAsync(string key) => Raw.DeleteAsync(key);

    public async Task<long> LeaseOfAsync(string key)
    {
        var r = await Raw.GetAsync(new Etcdserverpb.RangeRequest { Key = ByteString.CopyFromUtf8(key) });
        return r.Count == 0 ? 0 : r.Kvs[0].Lease;
    }

    public void Dispose()
    {
        Raw.Dispose();
        _channel.Dispose();
        Server.Dispose();
    }
}
