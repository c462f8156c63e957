using System.Collections.Immutable;
using System.Net;
using Appliance.Balancer.Proxy.Pools;
using Appliance.Balancer.Proxy.Stats;

namespace Appliance.Proxy.Tests.Pools;

/// <summary>One listener's pool: grants, holds, hands over in order, refuses with a reason, and ends sessions whose server left.</summary>
public sealed class BackendPoolTests
{
    static readonly IPAddress Client = IPAddress.Parse("10.1.0.7");
    static readonly Backend Db1 = new("db1", "127.0.0.1", 15432);
    static readonly Backend Db2 = new("db2", "127.0.0.1", 15433);
    static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(30);

    readonly ManualTime _time = new();
    readonly ListenerStats _stats = new("primary");

    BackendPool Pool(Func<PoolSettings, PoolSettings>? tweak = null)
    {
        var settings = new PoolSettings { QueueTimeout = QueueTimeout, MaxQueue = 3, Maxconn = 100 };
        return new BackendPool("primary", tweak is null ? settings : tweak(settings), _stats, _time);
    }

    static async Task<PoolLease> Granted(ValueTask<PoolAcquire> acquire)
    {
        var r = await acquire.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(r.Lease is not null, $"refused: {r.Reason} {r.Refusal}");
        return r.Lease;
    }

    [Fact]
    public async Task A_pool_with_a_free_server_grants_at_once()
    {
        var pool = Pool();
        pool.Update([Db1], "db1 leads");
        var acquire = pool.AcquireAsync(Client, default);
        Assert.True(acquire.IsCompleted);
        using var lease = await Granted(acquire);
        Assert.Equal(Db1, lease.Backend);
        Assert.Equal(1, pool.Active);
        Assert.Equal(0, _stats.Queued);
    }

    [Fact]
    public async Task A_client_is_held_while_the_pool_is_empty_and_granted_when_a_server_appears()
    {
        var pool = Pool();
        var acquire = pool.AcquireAsync(Client, default).AsTask();
        Assert.False(acquire.IsCompleted);
        Assert.Equal(1, _stats.Queued);

        _time.Advance(QueueTimeout - TimeSpan.FromSeconds(1));
        Assert.False(acquire.IsCompleted);
        pool.Update([Db2], "db2 took the leader key");

        using var lease = await Granted(new ValueTask<PoolAcquire>(acquire));
        Assert.Equal(Db2, lease.Backend);
        Assert.Equal(0, _stats.Queued);
    }

    [Fact]
    public async Task A_held_client_is_refused_after_queue_timeout_with_the_routing_reason()
    {
        var pool = Pool();
        pool.Update([], "the leader key is free");
        var acquire = pool.AcquireAsync(Client, default).AsTask();
        _time.Advance(QueueTimeout - TimeSpan.FromMilliseconds(1));
        Assert.False(acquire.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        var r = await acquire.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Null(r.Lease);
        Assert.Equal("queue_timeout", r.Reason);
        Assert.Contains("the leader key is free", r.Refusal, StringComparison.Ordinal);
        Assert.Equal(0, _stats.Queued);
        Assert.Equal(0, pool.Queued);
    }

    [Fact]
    public async Task Beyond_max_queue_a_client_is_refused_at_once()
    {
        var pool = Pool();
        var held = Enumerable.Range(0, 3).Select(_ => pool.AcquireAsync(Client, default).AsTask()).ToList();
        var r = await pool.AcquireAsync(Client, default);
        Assert.Null(r.Lease);
        Assert.Equal("queue_full", r.Reason);
        Assert.All(held, t => Assert.False(t.IsCompleted));
        Assert.Equal(3, _stats.Queued);

        await pool.StopAsync();
        foreach (var t in held) Assert.Equal("stopping", (await t.WaitAsync(TimeSpan.FromSeconds(10))).Reason);
        Assert.Equal("stopping", (await pool.AcquireAsync(Client, default)).Reason);
        Assert.Equal(0, _stats.Queued);
    }

    [Fact]
    public async Task Held_clients_are_granted_in_arrival_order_as_slots_free()
    {
        var pool = Pool(s => s with { Maxconn = 1 });
        pool.Update([Db1], "db1 leads");
        var first = await Granted(pool.AcquireAsync(Client, default));
        var order = new List<int>();
        var waiting = Enumerable.Range(1, 3).Select(async i =>
        {
            var lease = await Granted(pool.AcquireAsync(Client, default));
            lock (order) order.Add(i);
            return lease;
        }).ToList();
        Assert.Equal(3, pool.Queued);

        first.Dispose();
        for (var i = 0; i < 3; i++)
        {
            var next = await Task.WhenAny(waiting);
            waiting.Remove(next);
            Assert.Equal(1, pool.Active);
            (await next).Dispose();
        }
        Assert.Equal([1, 2, 3], order);
        Assert.Equal(0, pool.Active);
    }

    [Fact]
    public async Task Listener_maxconn_holds_clients_even_with_servers_free()
    {
        var pool = Pool(s => s with { Maxconn = 2 });
        pool.Update([Db1, Db2], "replicas");
        using var a = await Granted(pool.AcquireAsync(Client, default));
        using var b = await Granted(pool.AcquireAsync(Client, default));
        var third = pool.AcquireAsync(Client, default).AsTask();
        Assert.False(third.IsCompleted);
        a.Dispose();
        a.Dispose(); // exactly once
        using var c = await Granted(new ValueTask<PoolAcquire>(third));
        Assert.Equal(2, pool.Active);
    }

    [Fact]
    public async Task Backend_maxconn_sends_clients_to_the_other_server_then_holds_them()
    {
        var pool = Pool(s => s with { Servers = ImmutableDictionary<string, ServerLimits>.Empty.Add("db1", new ServerLimits(1, 1)).Add("db2", new ServerLimits(1, 2)) });
        pool.Update([Db1, Db2], "replicas");
        var leases = new List<PoolLease>();
        for (var i = 0; i < 3; i++) leases.Add(await Granted(pool.AcquireAsync(Client, default)));
        Assert.Equal(1, leases.Count(l => l.Backend == Db1));
        Assert.Equal(2, leases.Count(l => l.Backend == Db2));

        var fourth = pool.AcquireAsync(Client, default).AsTask();
        Assert.False(fourth.IsCompleted);
        leases.First(l => l.Backend == Db1).Dispose();
        using var again = await Granted(new ValueTask<PoolAcquire>(fourth));
        Assert.Equal(Db1, again.Backend);
    }

    [Fact]
    public async Task Zero_weight_takes_no_new_clients()
    {
        var pool = Pool(s => s with { Servers = ImmutableDictionary<string, ServerLimits>.Empty.Add("db1", new ServerLimits(0, 0)) });
        pool.Update([Db1, Db2], "replicas");
        for (var i = 0; i < 5; i++)
        {
            using var lease = await Granted(pool.AcquireAsync(Client, default));
            Assert.Equal(Db2, lease.Backend);
        }
    }

    [Fact]
    public async Task A_session_is_shut_down_when_its_server_leaves_the_pool_and_others_are_not()
    {
        var pool = Pool();
        pool.Update([Db1, Db2], "replicas");
        var leases = new List<PoolLease>();
        for (var i = 0; i < 4; i++) leases.Add(await Granted(pool.AcquireAsync(Client, default)));
        var onDb1 = leases.Where(l => l.Backend == Db1).ToList();
        var onDb2 = leases.Where(l => l.Backend == Db2).ToList();
        Assert.NotEmpty(onDb1);
        Assert.NotEmpty(onDb2);

        pool.Update([Db2], "db1 was marked down");
        Assert.All(onDb1, l => Assert.True(l.Shutdown.IsCancellationRequested));
        Assert.All(onDb2, l => Assert.False(l.Shutdown.IsCancellationRequested));
        // Cancel requests still reach db1 while its sessions run.
        Assert.Contains(Db1, pool.CancelTargets);
        foreach (var l in onDb1) l.Dispose();
        Assert.DoesNotContain(Db1, pool.CancelTargets);

        // Back in the pool: a new session gets a fresh token.
        pool.Update([Db1], "db1 is back");
        using var fresh = await Granted(pool.AcquireAsync(Client, default));
        Assert.Equal(Db1, fresh.Backend);
        Assert.False(fresh.Shutdown.IsCancellationRequested);
        Assert.True(onDb2[0].Shutdown.IsCancellationRequested);
    }

    [Fact]
    public async Task Without_shutdown_sessions_a_leaving_server_keeps_its_sessions()
    {
        var pool = Pool(s => s with { ShutdownSessions = false });
        pool.Update([Db1], "db1 leads");
        using var lease = await Granted(pool.AcquireAsync(Client, default));
        pool.Update([], "the leader key is free");
        Assert.False(lease.Shutdown.IsCancellationRequested);
    }

    [Fact]
    public async Task A_client_that_gives_up_leaves_the_queue()
    {
        var pool = Pool();
        using var cts = new CancellationTokenSource();
        var acquire = pool.AcquireAsync(Client, cts.Token).AsTask();
        Assert.Equal(1, _stats.Queued);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => acquire.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, _stats.Queued);
        pool.Update([Db1], "db1 leads");
        Assert.Equal(0, pool.Active);
    }
}
