using Appliance.Cluster;
using Appliance.Configuration;
using Appliance.TestKit;
using Etcdserverpb;
using Grpc.Core;

namespace Appliance.Etcd.Tests;

/// <summary>etcd with authentication on (own etcd: auth cannot be turned off for the other tests' sake).</summary>
public sealed class EtcdAuthTests(EtcdTestCluster etcd) : IClassFixture<EtcdTestCluster>, IDisposable
{
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(90));
    private CancellationToken Ct => _cts.Token;

    public void Dispose() => _cts.Dispose();

    private async Task EnableAuthAsync()
    {
        try
        {
            await etcd.Raw.UserListAsync(new AuthUserListRequest(), cancellationToken: Ct);
        }
        catch (RpcException e) when (e.Status.Detail.Contains("user name is empty", StringComparison.Ordinal))
        {
            return; // the other test turned auth on already: anonymous calls are refused
        }
        await etcd.Raw.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "s3cret" }, cancellationToken: Ct);
        await etcd.Raw.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" }, cancellationToken: Ct);
        await etcd.Raw.AuthEnableAsync(new AuthEnableRequest(), cancellationToken: Ct);
    }

    [Fact]
    public async Task With_username_and_password_every_operation_and_the_watch_work()
    {
        await EnableAuthAsync();
        var section = new EtcdSection { Endpoints = [etcd.Server.Endpoint], Username = "root", Password = "s3cret" };
        var scope = EtcdTestCluster.NewScope();
        await using var a = EtcdClusterStore.Create(section, new ClusterSection { Scope = scope }, "a", 30, TimeProvider.System);
        await using var b = EtcdClusterStore.Create(section, new ClusterSection { Scope = scope }, "b", 30, TimeProvider.System);

        await a.TouchMemberAsync(new MemberData { State = "running" }, Ct);
        await Wait.UntilAsync("b's watch is registered", () => b.IsWatching, TimeSpan.FromSeconds(30));
        while (await b.WaitForChangeAsync(TimeSpan.FromMilliseconds(200), Ct)) { }
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        Assert.True(await a.RenewLeaderAsync(Ct));
        Assert.True(await b.WaitForChangeAsync(TimeSpan.FromSeconds(10), Ct));
        var s = await b.LoadAsync(Ct);
        Assert.Equal("a", s.Leader?.Name);
        Assert.NotNull(s.GetMember("a"));
    }

    [Fact]
    public async Task Without_credentials_etcd_refuses()
    {
        await EnableAuthAsync();
        await using var a = EtcdClusterStore.Create(new EtcdSection { Endpoints = [etcd.Server.Endpoint] },
            new ClusterSection { Scope = EtcdTestCluster.NewScope() }, "a", 30, TimeProvider.System);
        await Assert.ThrowsAsync<RpcException>(() => a.LoadAsync(Ct));
    }
}
