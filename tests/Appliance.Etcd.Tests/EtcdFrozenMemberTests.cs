using System.Net;
using System.Net.Sockets;
using Appliance.Cluster;
using Appliance.Configuration;
using Appliance.TestKit;

namespace Appliance.Etcd.Tests;

/// <summary>
/// A frozen etcd member (SIGSTOP, a stalled disk): its port still completes TCP handshakes (the
/// kernel's listen backlog) and its connections stay open, but nothing answers. A listener that never
/// accepts is exactly that. The store must pass over it within one attempt bound, not hang on it
/// until the caller's deadline.
/// </summary>
public sealed class EtcdFrozenMemberTests(EtcdTestCluster etcd) : IClassFixture<EtcdTestCluster>, IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Attempt = TimeSpan.FromMilliseconds(500);
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(90));
    private readonly TcpListener _frozen = Frozen();
    private CancellationToken Ct => _cts.Token;

    private static TcpListener Frozen()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start(64);
        return l;
    }

    private string FrozenEndpoint => $"http://127.0.0.1:{((IPEndPoint)_frozen.LocalEndpoint).Port}";

    public void Dispose()
    {
        _frozen.Stop();
        _cts.Dispose();
    }

    private EtcdClusterStore Store(string scope, string member, params string[] endpoints)
        => EtcdClusterStore.Create(new EtcdSection { Endpoints = endpoints }, new ClusterSection { Scope = scope }, member, 30, TimeProvider.System,
            attemptTimeout: Attempt);

    [Fact]
    public async Task Every_call_passes_over_a_frozen_endpoint_within_the_leaders_bound()
    {
        var scope = EtcdTestCluster.NewScope();
        // The frozen member first: every call would start there.
        await using var a = Store(scope, "a", FrozenEndpoint, etcd.Server.Endpoint);
        // What the HA loop gives a leader's store work: a bound well under the lease.
        var bound = TimeSpan.FromSeconds(3);
        async Task<T> Within<T>(Func<CancellationToken, Task<T>> call)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            cts.CancelAfter(bound);
            return await call(cts.Token);
        }

        await Within(async t => { await a.TouchMemberAsync(new MemberData { State = "running" }, t); return true; });
        Assert.True(await Within(a.TryAcquireLeaderAsync));
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("a", (await Within(a.LoadAsync)).Leader?.Name);
            Assert.True(await Within(a.RenewLeaderAsync));
            await Within(async t => { await a.WriteStatusAsync(i, t); return true; });
        }
    }

    [Fact]
    public async Task A_watch_on_a_frozen_endpoint_starts_again_on_another()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await using var b = Store(scope, "b", FrozenEndpoint, etcd.Server.Endpoint);
        // b's watch begins on the frozen member (nothing has answered b yet): its progress requests get
        // no answer, and it moves on.
        await Wait.UntilAsync("b's watch is registered", () => b.IsWatching, Deadline);
        while (await b.WaitForChangeAsync(TimeSpan.FromMilliseconds(200), Ct)) { }
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        Assert.True(await b.WaitForChangeAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task A_create_if_absent_repeated_after_it_was_applied_answers_won()
    {
        // What a repeated attempt sees when the one given up on was applied after all: the key it
        // creates is already there, with its value, on its lease.
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await using var b = etcd.Store(scope, "b");
        Assert.True(await a.TryStartInitializeAsync(Ct));
        Assert.True(await a.TryStartInitializeAsync(Ct));
        Assert.False(await b.TryStartInitializeAsync(Ct));
        Assert.True(await a.CompleteInitializeAsync("7712490607480592036", Ct));
        Assert.True(await a.CompleteInitializeAsync("7712490607480592036", Ct));
        Assert.False(await b.CompleteInitializeAsync("1", Ct));

        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        Assert.False(await b.TryAcquireLeaderAsync(Ct));

        Assert.True(await a.InitializeConfigAsync("{\"ttl\":30}", Ct));
        Assert.True(await a.InitializeConfigAsync("{\"ttl\":30}", Ct));
        Assert.False(await b.InitializeConfigAsync("{\"ttl\":99}", Ct));

        var v1 = await a.WriteSyncAsync(SyncState.ToJson("a", ["b"]), 0, Ct);
        Assert.Equal(v1, await a.WriteSyncAsync(SyncState.ToJson("a", ["b"]), 0, Ct));
        Assert.Equal(v1, (await b.LoadAsync(Ct)).SyncVersion);
    }
}
