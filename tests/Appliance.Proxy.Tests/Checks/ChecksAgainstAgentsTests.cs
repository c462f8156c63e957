using Appliance.Balancer.Proxy.Checks;
using Appliance.Configuration;
using Appliance.Lab;
using Appliance.TestKit;

namespace Appliance.Proxy.Tests.Checks;

/// <summary>Three real agents with PostgreSQL 15 and etcd, bootstrapped once for these tests, which only read it.</summary>
public sealed class AgentClusterFixture : IAsyncLifetime
{
    public LocalCluster Cluster { get; private set; } = null!;
    public async Task InitializeAsync() => Cluster = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options("checks"));
    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>Every check type against our agents: the roles they tell, and the Server layer of a real PostgreSQL.</summary>
public sealed class ChecksAgainstAgentsTests(AgentClusterFixture f) : IClassFixture<AgentClusterFixture>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    LocalCluster C => f.Cluster;

    static CheckTarget TargetOf(LabMember m, string? api = null) => new(new Backend(m.Name, "127.0.0.1", m.PgPort), api ?? m.ApiUrl);

    async Task<(LabMember Primary, LabMember[] Replicas)> RolesAsync()
    {
        var primary = await C.WaitForPrimaryAsync("one primary", Deadline);
        return (primary, C.Members.Where(m => m != primary).ToArray());
    }

    [Fact]
    public async Task The_http_check_says_Primary_for_the_leader_and_Replica_for_the_replicas()
    {
        var (primary, replicas) = await RolesAsync();
        using var check = new HttpCheck(Timeout, 16 * 1024 * 1024, TimeProvider.System);
        // As discovery hands it over: the member key's api_url, which ends in /patroni.
        var p = await check.RunAsync(TargetOf(primary, primary.ApiUrl + "/patroni"), CancellationToken.None);
        Assert.True(p.Ok, p.Detail);
        Assert.Equal(BackendRole.Primary, p.Role);
        foreach (var r in replicas)
        {
            var o = await check.RunAsync(TargetOf(r), CancellationToken.None);
            Assert.True(o.Ok, $"{r.Name}: {o.Detail}");
            Assert.Equal(BackendRole.Replica, o.Role);
            Assert.Equal("OPTIONS /replica?lag=16777216: 200", o.Detail);
        }
    }

    [Fact]
    public async Task The_pgsql_check_passes_on_every_node_and_cannot_tell_a_role()
    {
        await RolesAsync();
        var check = new PgsqlStartupCheck("postgres", "postgres", Timeout, TimeProvider.System);
        foreach (var m in C.Members)
        {
            var o = await check.RunAsync(TargetOf(m), CancellationToken.None);
            Assert.True(o.Ok, $"{m.Name}: {o.Detail}");
            Assert.Equal(BackendRole.Unknown, o.Role);
            Assert.StartsWith("accepts connections", o.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_pgsql_login_check_says_Primary_for_the_leader_and_Replica_for_the_replicas()
    {
        var (primary, replicas) = await RolesAsync();
        var check = new PgsqlLoginCheck("postgres", C.Options.SuperuserPassword, "postgres", Timeout, TimeProvider.System);
        var p = await check.RunAsync(TargetOf(primary), CancellationToken.None);
        Assert.True(p.Ok, p.Detail);
        Assert.Equal(BackendRole.Primary, p.Role);
        foreach (var r in replicas)
        {
            var o = await check.RunAsync(TargetOf(r), CancellationToken.None);
            Assert.True(o.Ok, $"{r.Name}: {o.Detail}");
            Assert.Equal(BackendRole.Replica, o.Role);
        }
    }

    [Fact]
    public async Task The_pgsql_login_check_fails_at_Server_with_3D000_for_a_database_that_does_not_exist()
    {
        var (primary, _) = await RolesAsync();
        var check = new PgsqlLoginCheck("postgres", C.Options.SuperuserPassword, "no_such_database", Timeout, TimeProvider.System);
        var o = await check.RunAsync(TargetOf(primary), CancellationToken.None);
        Assert.False(o.Ok);
        Assert.Equal(CheckLayer.Server, o.Layer);
        Assert.StartsWith("3D000", o.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_login_fails_at_Server_with_28P01_and_no_password_reaches_the_log()
    {
        var (primary, replicas) = await RolesAsync();
        const string Wrong = "Wr0ng-pa$$word-for-the-check";
        var log = new LogLines();
        var proxy = new ProxySection { Check = new ProxyCheckSection { Type = "pgsql-login", Password = Wrong, Inter = TimeSpan.FromMilliseconds(100), Rise = 1, Fall = 1 } };
        await using (var checks = HealthChecks.Create(proxy, TimeProvider.System, log))
        {
            checks.Track([TargetOf(primary)]);
            await Wait.UntilAsync("a failed login", () => checks.Statuses[primary.Name].Counters.Failures(CheckLayer.Server) >= 1, Deadline);
            Assert.StartsWith("28P01", checks.Statuses[primary.Name].LastDetail, StringComparison.Ordinal);
            Assert.DoesNotContain(Wrong, checks.Statuses[primary.Name].LastDetail, StringComparison.Ordinal);
        }
        // And with the right one, through the whole loop: up, with the role, and the password in no line either.
        var right = proxy with { Check = proxy.Check with { Password = C.Options.SuperuserPassword } };
        await using (var checks = HealthChecks.Create(right, TimeProvider.System, log))
        {
            checks.Track([.. C.Members.Select(m => TargetOf(m))]);
            await Wait.UntilAsync("every node up with its role", () =>
                checks.Statuses[primary.Name] is { Up: true, Role: BackendRole.Primary }
                && replicas.All(r => checks.Statuses[r.Name] is { Up: true, Role: BackendRole.Replica }), Deadline);
        }
        Assert.Contains("28P01", log.All, StringComparison.Ordinal);
        Assert.DoesNotContain(Wrong, log.All, StringComparison.Ordinal);
        Assert.DoesNotContain(C.Options.SuperuserPassword, log.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthChecks_with_the_http_check_bring_every_agent_up_with_its_role()
    {
        var (primary, replicas) = await RolesAsync();
        var changed = 0;
        var proxy = new ProxySection { Check = new ProxyCheckSection { Type = "http", Inter = TimeSpan.FromMilliseconds(100) } };
        await using var checks = HealthChecks.Create(proxy, TimeProvider.System, new LogLines());
        checks.Changed += () => Interlocked.Increment(ref changed);
        checks.Track([.. C.Members.Select(m => TargetOf(m))]);
        await Wait.UntilAsync("every node up with its role", () =>
            checks.Statuses[primary.Name] is { Up: true, Role: BackendRole.Primary }
            && replicas.All(r => checks.Statuses[r.Name] is { Up: true, Role: BackendRole.Replica }), Deadline);
        Assert.True(Volatile.Read(ref changed) >= 3);
        Assert.All(checks.Statuses.Values, s => Assert.True(s.LastLatency > TimeSpan.Zero));
    }
}
