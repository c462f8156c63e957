using Appliance.Cluster;
using Appliance.Configuration;
using Appliance.TestKit;
using Grpc.Core;

namespace Appliance.Etcd.Tests;

/// <summary>
/// What a node sees when etcd goes away and comes back. Own etcd: these tests stop it.
/// </summary>
public sealed class EtcdOutageTests(EtcdTestCluster etcd) : IClassFixture<EtcdTestCluster>, IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(90));
    private CancellationToken Ct => _cts.Token;

    public void Dispose()
    {
        _cts.Dispose();
        if (!etcd.Server.IsRunning) etcd.Server.Start();
    }

    [Fact]
    public async Task Renew_throws_within_the_callers_bound_while_etcd_is_down_and_works_again_after()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await using var b = etcd.Store(scope, "b");
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        await Wait.UntilAsync("b's watch is registered", () => b.IsWatching, Deadline);

        etcd.Server.Stop();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        using (var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            bound.CancelAfter(TimeSpan.FromSeconds(2));
            var e = await Record.ExceptionAsync(() => a.RenewLeaderAsync(bound.Token));
            Assert.True(e is OperationCanceledException or RpcException, $"unexpected {e}");
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"renew took {sw.Elapsed} with a 2 s bound");
        await Wait.UntilAsync("b notices the watch broke", () => !b.IsWatching, Deadline);

        etcd.Server.Start();
        // etcd keeps leases across a restart (and renews their TTL when it elects itself leader).
        await Wait.UntilAsync("renewal works again", () => a.RenewLeaderAsync(Ct), Deadline);
        await Wait.UntilAsync("b's watch is back", () => b.IsWatching, Deadline);
        while (await b.WaitForChangeAsync(TimeSpan.FromMilliseconds(200), Ct)) { }
        Assert.True(await a.ReleaseLeaderAsync(Ct));
        Assert.True(await b.WaitForChangeAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Null((await b.LoadAsync(Ct)).Leader);
    }

    [Fact]
    public async Task A_dead_endpoint_in_the_list_does_not_stop_the_store()
    {
        var dead = $"http://127.0.0.1:{FreePorts.Next()}";
        var section = new EtcdSection { Endpoints = [dead, etcd.Server.Endpoint] };
        var scope = EtcdTestCluster.NewScope();
        await using var a = EtcdClusterStore.Create(section, new ClusterSection { Scope = scope }, "a", 30, TimeProvider.System);

        await Wait.UntilAsync("a reaches etcd through the live endpoint", async () =>
        {
            await a.TouchMemberAsync(new MemberData { State = "running" }, Ct);
            return true;
        }, Deadline);
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        for (var i = 0; i < 10; i++) Assert.True(await a.RenewLeaderAsync(Ct));
        Assert.Equal("a", (await a.LoadAsync(Ct)).Leader?.Name);
    }

    [Fact]
    public void Endpoints_must_be_http_or_https_urls_of_one_scheme()
    {
        static void Create(params string[] endpoints)
            => EtcdClusterStore.Create(new EtcdSection { Endpoints = endpoints }, new ClusterSection { Scope = "s" }, "a", 30, TimeProvider.System);
        Assert.Throws<ArgumentException>(() => Create());
        Assert.Throws<ArgumentException>(() => Create("127.0.0.1:2379"));
        Assert.Throws<ArgumentException>(() => Create("http://127.0.0.1:2379", "https://127.0.0.1:2380"));
    }
}
