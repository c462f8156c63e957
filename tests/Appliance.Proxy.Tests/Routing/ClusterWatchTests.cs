using System.Collections.Concurrent;
using Appliance.Cluster;
using Appliance.Etcd;
using Appliance.TestKit;

namespace Appliance.Proxy.Tests.Routing;

/// <summary>The proxy's read-only view of the cluster keys, against a real etcd written as Patroni writes it. Own etcd: a test stops it.</summary>
public sealed class ClusterWatchTests(EtcdServer etcd) : IClassFixture<EtcdServer>, IDisposable
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    static readonly ClusterWatchOptions Options = new() { UnreachableAfter = TimeSpan.FromSeconds(2), RetryDelay = TimeSpan.FromMilliseconds(200) };

    readonly PatroniKeys _keys = new(etcd);
    readonly ConcurrentQueue<ClusterSnapshot?> _seen = new();

    public void Dispose()
    {
        _keys.Dispose();
        if (!etcd.IsRunning) etcd.Start();
    }

    async Task<ClusterWatch> StartAsync()
    {
        var watch = ClusterWatch.Start(_keys.Etcd, _keys.Cluster, Options, TimeProvider.System);
        watch.Changed += _seen.Enqueue;
        await Wait.UntilAsync("the first snapshot", () => watch.Current is not null, Deadline);
        return watch;
    }

    [Fact]
    public async Task A_new_snapshot_follows_the_leader_key_and_a_members_role()
    {
        await _keys.MemberAsync("db1", 5432, "master");
        await _keys.MemberAsync("db2", 5433, "replica");
        await _keys.LeaderAsync("db1");
        await using var watch = await StartAsync();
        Assert.Equal("db1", watch.Current!.Leader?.Name);
        Assert.Equal(("127.0.0.1", 5433), watch.Current.GetMember("db2")!.PostgresEndpoint);

        await _keys.NoLeaderAsync();
        await Wait.UntilAsync("the leader key is seen free", () => watch.Current?.Leader is null, Deadline);
        await _keys.LeaderAsync("db2");
        await Wait.UntilAsync("db2 is seen holding the leader key", () => watch.Current?.Leader?.Name == "db2", Deadline);
        await _keys.MemberAsync("db2", 5433, "master");
        await Wait.UntilAsync("db2's member key is seen saying master", () => watch.Current?.GetMember("db2")?.IsPrimaryRole == true, Deadline);
    }

    [Fact]
    public async Task A_members_refresh_publishes_nothing_and_a_tag_does()
    {
        await _keys.MemberAsync("db1", 5432, "master");
        await _keys.MemberAsync("db2", 5433, "replica");
        await _keys.LeaderAsync("db1");
        await using var watch = await StartAsync();
        var before = _seen.Count;

        // Patroni rewrites every member key every cycle; only the position moves here.
        await _keys.MemberAsync("db2", 5433, "replica", xlog: 50331648 + 8192);
        await _keys.MemberAsync("db2", 5433, "replica", xlog: 50331648 + 8192, tags: "\"noloadbalance\":true");
        await Wait.UntilAsync("db2's tag is seen", () => watch.Current?.GetMember("db2")?.NoLoadBalance == true, Deadline);
        // Events arrive in order: had the refresh published, there would be two new snapshots.
        Assert.Equal(before + 1, _seen.Count);
    }

    [Fact]
    public async Task The_view_is_null_while_etcd_is_down_and_comes_back_after()
    {
        await _keys.MemberAsync("db1", 5432, "master");
        await _keys.LeaderAsync("db1");
        await using var watch = await StartAsync();

        etcd.Stop();
        await Wait.UntilAsync("the view becomes null", () => watch.Current is null, Deadline);
        Assert.Contains(null, _seen);

        etcd.Start();
        await Wait.UntilAsync("the view is back", () => watch.Current?.Leader?.Name == "db1", Deadline);
    }
}
