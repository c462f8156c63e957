using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Appliance.TestKit;
using Npgsql;
using Tmds.Linux;

namespace Appliance.Proxy.Tests.Routing;

/// <summary>
/// What a client of the balancer sees, end to end, with real agents, PostgreSQL and etcd: writes reach the
/// node that is not in recovery, reads the replicas (spread), and after a switchover or a crash new
/// connections reach the new primary while sessions to the old one are closed; connections made while
/// there is no primary are held, not refused.
/// </summary>
public sealed class RoutingFollowsTheClusterTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    static async Task<int> PrimaryPortSeenAsync(BalancerInFrontOfAgents b, string what)
    {
        int port = 0;
        await Wait.UntilAsync(what, async () =>
        {
            var (p, inRecovery) = await b.WhereAsync(b.PrimaryPort);
            port = p;
            return !inRecovery;
        }, Deadline);
        return port;
    }

    [Fact]
    public async Task Writes_reach_the_primary_reads_the_replicas_and_a_crash_moves_new_sessions_and_ends_old_ones()
    {
        await using var b = await BalancerInFrontOfAgents.StartAsync("route");
        var leader = await b.Cluster.WaitForPrimaryAsync("a leader", Deadline);

        // Every new connection on the primary port lands on the leader's PostgreSQL, which is not in recovery.
        Assert.Equal(leader.PgPort, await PrimaryPortSeenAsync(b, $"the primary port answers ({b.Log})"));
        for (var i = 0; i < 6; i++)
            Assert.Equal((leader.PgPort, false), await b.WhereAsync(b.PrimaryPort));

        // The replica port: only replicas, both of them (round robin).
        var replicaPorts = b.Cluster.Members.Where(m => m != leader).Select(m => m.PgPort).ToHashSet();
        await Wait.UntilAsync("both replicas take read-only clients", async () =>
        {
            var seen = new HashSet<int>();
            for (var i = 0; i < 6; i++)
            {
                var (port, inRecovery) = await b.WhereAsync(b.ReplicaPort);
                Assert.True(inRecovery, $"the replica port reached {port}, which is not in recovery");
                seen.Add(port);
            }
            return seen.SetEquals(replicaPorts);
        }, Deadline);

        // A session to the primary, open through the proxy across the crash.
        await using var old = new NpgsqlConnection(b.Through(b.PrimaryPort));
        await old.OpenAsync();
        await using (var create = new NpgsqlCommand("create table t (id int primary key)", old))
            await create.ExecuteNonQueryAsync();

        b.Cluster.SignalAgent(leader.Name, LibC.SIGKILL);
        b.Cluster.KillPostgres(leader.Name, LibC.SIGKILL);
        var next = await b.Cluster.WaitForPrimaryAsync("a new leader", Deadline, m => m != leader);

        var port = await PrimaryPortSeenAsync(b, "the primary port reaches a primary again");
        Assert.Equal(next.PgPort, port);
        await using (var insert = new NpgsqlCommand("insert into t values (1)", new NpgsqlConnection(b.Through(b.PrimaryPort))))
        {
            await insert.Connection!.OpenAsync();
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
            await insert.Connection.DisposeAsync();
        }
        // The old session ended: its server died, and it left the pool.
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var q = new NpgsqlCommand("select 1", old);
            await q.ExecuteScalarAsync();
        });

        using var status = await b.ProxyStatusAsync();
        Assert.True(status.RootElement.GetProperty("etcd_readable").GetBoolean());
        Assert.True(status.RootElement.GetProperty("route_changes").GetProperty("leader_changed").GetInt64() >= 1, status.RootElement.ToString());
        var metrics = await b.MetricsAsync();
        Assert.Contains($"appliance_proxy_backend_routed{{listener=\"primary\",backend=\"{next.Name}\"}} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_switchover_holds_new_connections_instead_of_refusing_them_and_closes_the_old_primary_s_sessions()
    {
        await using var b = await BalancerInFrontOfAgents.StartAsync("hold");
        var leader = await b.Cluster.WaitForPrimaryAsync("a leader", Deadline);
        Assert.Equal(leader.PgPort, await PrimaryPortSeenAsync(b, $"the primary port answers ({b.Log})"));
        await using var old = new NpgsqlConnection(b.Through(b.PrimaryPort));
        await old.OpenAsync();

        // Clients keep connecting (and writing) through the primary port during the whole switchover.
        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<string>();
        var reached = new ConcurrentDictionary<int, int>();
        async Task ClientAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var (port, inRecovery) = await b.WhereAsync(b.PrimaryPort);
                    if (inRecovery) failures.Enqueue($"reached {port}, in recovery");
                    reached.AddOrUpdate(port, 1, (_, n) => n + 1);
                }
                catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
                {
                    failures.Enqueue(e.Message);
                }
            }
        }
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(ClientAsync)).ToArray();
        await Wait.UntilAsync("clients reach the old primary", () => reached.ContainsKey(leader.PgPort), Deadline);

        var candidate = b.Cluster.Members.First(m => m != leader);
        Assert.Equal(HttpStatusCode.OK, await b.PostAsync(leader, "/switchover", $$"""{"leader":"{{leader.Name}}","candidate":"{{candidate.Name}}"}"""));
        await b.Cluster.WaitForPrimaryAsync("the candidate leads", Deadline, m => m == candidate);
        await Wait.UntilAsync("clients reach the new primary", () => reached.ContainsKey(candidate.PgPort), Deadline);
        var clock = Stopwatch.StartNew();
        await Wait.UntilAsync("clients keep reaching it for a second", () => clock.Elapsed > TimeSpan.FromSeconds(1), Deadline);
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        Assert.True(failures.IsEmpty, $"{failures.Count} failed connection(s), the first: {failures.FirstOrDefault()}\n{b.Log}");
        Assert.Equal(new[] { leader.PgPort, candidate.PgPort }.Order(), reached.Keys.Order());
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var q = new NpgsqlCommand("select 1", old);
            await q.ExecuteScalarAsync();
        });
    }
}
