using System.Net;
using Appliance.Balancer.Proxy.Pools;
using Appliance.Balancer.Proxy.Routing;
using Appliance.Balancer.Proxy.Stats;
using Appliance.Configuration;
using Appliance.Etcd;
using Appliance.TestKit;

namespace Appliance.Proxy.Tests.Routing;

/// <summary>Routing that follows a real etcd, with health-check verdicts under the test's control.</summary>
public sealed class ProxyRouterTests(ProxyRouterTests.Etcd etcd) : IClassFixture<ProxyRouterTests.Etcd>, IAsyncLifetime, IDisposable
{
    /// <summary>One etcd for the class (no test here stops it).</summary>
    public sealed class Etcd : IDisposable
    {
        public EtcdServer Server { get; } = new();
        public void Dispose() => Server.Dispose();
    }

    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    static readonly Backend Db1 = new("db1", "127.0.0.1", 5432);
    static readonly Backend Db2 = new("db2", "127.0.0.1", 5433);
    static readonly Backend Db3 = new("db3", "127.0.0.1", 5434);

    readonly PatroniKeys _keys = new(etcd.Server);
    readonly FakeHealthChecks _checks = new();
    ClusterWatch? _watch;
    ProxyRouter? _router;
    BackendPool _primary = null!;
    BackendPool _replicas = null!;
    BackendPool _replicasNoFallback = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _router?.Dispose();
        if (_watch is not null) await _watch.DisposeAsync();
    }

    public void Dispose()
    {
        _router?.Dispose();
        _keys.Dispose();
    }

    async Task ThreeNodesAsync(long db2Xlog = 50331648, string db3Tags = "")
    {
        await _keys.MemberAsync("db1", 5432, "master");
        await _keys.MemberAsync("db2", 5433, "replica", xlog: db2Xlog);
        await _keys.MemberAsync("db3", 5434, "replica", tags: db3Tags);
        await _keys.StatusAsync(50331648);
        await _keys.LeaderAsync("db1");
        _checks.Set("db1", true, BackendRole.Primary);
        _checks.Set("db2", true, BackendRole.Replica);
        _checks.Set("db3", true, BackendRole.Replica);
    }

    void Start(long? maximumReplicaLag = null)
    {
        var proxy = new ProxySection
        {
            Discovery = "etcd",
            MaximumReplicaLag = maximumReplicaLag,
            QueueTimeout = TimeSpan.FromSeconds(60),
            Listener =
            [
                new() { Name = "primary", Bind = "127.0.0.1:5000", Role = "primary" },
                new() { Name = "replicas", Bind = "127.0.0.1:5001", Role = "replica", FallbackToPrimary = true },
                new() { Name = "replicas-only", Bind = "127.0.0.1:5002", Role = "replica", FallbackToPrimary = false },
            ],
        };
        BackendPool Pool(ProxyListenerSection l) => new(l.Name, PoolSettings.From(proxy, l), new ListenerStats(l.Name), TimeProvider.System);
        _primary = Pool(proxy.Listener[0]);
        _replicas = Pool(proxy.Listener[1]);
        _replicasNoFallback = Pool(proxy.Listener[2]);
        _watch = ClusterWatch.Start(_keys.Etcd, _keys.Cluster, new ClusterWatchOptions { UnreachableAfter = TimeSpan.FromSeconds(3) }, TimeProvider.System);
        _router = new ProxyRouter(proxy, [new(proxy.Listener[0], _primary), new(proxy.Listener[1], _replicas), new(proxy.Listener[2], _replicasNoFallback)],
            _checks, _watch, TimeProvider.System);
        _router.Start();
    }

    static Task Serves(BackendPool pool, params Backend[] servers)
        => Wait.UntilAsync($"{pool.Name} serves [{string.Join(", ", servers.Select(s => s.Name))}] (has [{string.Join(", ", pool.Servers.Select(s => s.Name))}]: {pool.Reason})",
            () => pool.Servers.OrderBy(s => s.Name, StringComparer.Ordinal).SequenceEqual(servers.OrderBy(s => s.Name, StringComparer.Ordinal)), Deadline);

    [Fact]
    public async Task Writes_follow_the_leader_key_only_once_the_new_leaders_check_says_primary()
    {
        await ThreeNodesAsync();
        Start();
        await Serves(_primary, Db1);
        await Serves(_replicas, Db2, Db3);
        Assert.Contains(_checks.Tracked, t => t.Backend == Db2 && t.ApiUrl == "http://127.0.0.1:8433");
        Assert.True(_router!.Status.EtcdReadable);
        Assert.True(_router.Status.SeesPrimary);

        // A switchover: the key moves to db2 before db2's own check sees it promoted.
        await _keys.NoLeaderAsync();
        await Serves(_primary);
        Assert.True(_checks.Fast);
        var held = _primary.AcquireAsync(IPAddress.Loopback, default).AsTask();
        await _keys.LeaderAsync("db2");
        await _keys.MemberAsync("db2", 5433, "master");
        await Wait.UntilAsync("the new leader is checked at once", () => _checks.CheckedNow.Contains("db2"), Deadline);
        Assert.Empty(_primary.Servers);
        Assert.False(held.IsCompleted);

        _checks.Set("db2", true, BackendRole.Primary);
        await Serves(_primary, Db2);
        var lease = (await held.WaitAsync(Deadline)).Lease;
        Assert.Equal(Db2, lease?.Backend);
        lease!.Dispose();
        Assert.False(_checks.Fast);

        // The deposed db1 says primary still: it gets no writes.
        Assert.DoesNotContain(Db1, _primary.Servers);
        var changes = _router.RouteChanges;
        Assert.True(changes[RouteChangeReason.LeaderChanged] >= 1, "leader_changed counted");
        Assert.True(changes[RouteChangeReason.CheckChanged] >= 1, "check_changed counted");
    }

    [Fact]
    public async Task Replicas_exclude_noloadbalance_and_laggards_and_fall_back_to_the_primary()
    {
        // db2 is 64 MiB behind the leader's published position; db3 is tagged noloadbalance.
        await ThreeNodesAsync(db2Xlog: 50331648 - 64 * 1024 * 1024, db3Tags: "\"noloadbalance\":true");
        Start(maximumReplicaLag: 16 * 1024 * 1024);
        await Serves(_primary, Db1);
        await Serves(_replicas, Db1);
        await Serves(_replicasNoFallback);

        // db2 catches up, db3 drops its tag.
        await _keys.MemberAsync("db2", 5433, "replica");
        await _keys.MemberAsync("db3", 5434, "replica");
        await Serves(_replicas, Db2, Db3);
        await Serves(_replicasNoFallback, Db2, Db3);

        // db3's check goes down: it leaves the replica pools, and its sessions there end.
        var lease = await Wait.ForAsync("a lease on db3", async () =>
        {
            var l = (await _replicas.AcquireAsync(IPAddress.Loopback, default)).Lease;
            if (l?.Backend == Db3) return l;
            l?.Dispose();
            return null;
        }, Deadline);
        _checks.Set("db3", false, BackendRole.Unknown);
        await Serves(_replicas, Db2);
        Assert.True(lease.Shutdown.IsCancellationRequested);
        lease.Dispose();
    }
}
