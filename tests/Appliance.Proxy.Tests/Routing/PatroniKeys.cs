using Appliance.Configuration;
using Appliance.TestKit;
using dotnet_etcd;
using Grpc.Net.Client;

namespace Appliance.Proxy.Tests.Routing;

/// <summary>Writes a cluster's keys into a real etcd the way Patroni 3 writes them, on a fresh scope per test.</summary>
public sealed class PatroniKeys : IDisposable
{
    readonly GrpcChannel _channel;
    readonly EtcdClient _raw;

    public PatroniKeys(EtcdServer etcd)
    {
        _channel = GrpcChannel.ForAddress(etcd.Endpoint);
        _raw = new EtcdClient(_channel.CreateCallInvoker());
        Etcd = new EtcdSection { Endpoints = [etcd.Endpoint] };
        Cluster = new ClusterSection { Scope = "t" + Guid.NewGuid().ToString("N")[..12], Namespace = "/service" };
    }

    public EtcdSection Etcd { get; }
    public ClusterSection Cluster { get; }
    string Prefix => $"/service/{Cluster.Scope}/";

    /// <summary>A member key as Patroni's <c>touch_member</c> writes it (compact JSON, xlog_location as a number).</summary>
    public Task MemberAsync(string name, int pgPort, string role, long xlog = 50331648, string state = "running", string tags = "")
        => _raw.PutAsync(Prefix + "members/" + name,
            $$"""{"conn_url":"postgres://127.0.0.1:{{pgPort}}/postgres","api_url":"http://127.0.0.1:{{pgPort + 3000}}/patroni","state":"{{state}}","role":"{{role}}","version":"3.0.2","xlog_location":{{xlog}},"timeline":1{{(tags.Length == 0 ? "" : $",\"tags\":{{{tags}}}")}}}""");

    /// <summary>The leader key: the holder's name.</summary>
    public Task LeaderAsync(string name) => _raw.PutAsync(Prefix + "leader", name);

    public Task NoLeaderAsync() => _raw.DeleteAsync(Prefix + "leader");

    /// <summary><c>status</c>: the leader's last published WAL position.</summary>
    public Task StatusAsync(long optime) => _raw.PutAsync(Prefix + "status", $$"""{"optime":{{optime}},"slots":{},"retain_slots":[]}""");

    public void Dispose()
    {
        _raw.Dispose();
        _channel.Dispose();
    }
}
