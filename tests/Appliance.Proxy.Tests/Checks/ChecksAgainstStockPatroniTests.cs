using Appliance.Balancer.Proxy.Checks;
using Appliance.TestKit;

namespace Appliance.Proxy.Tests.Checks;

/// <summary>
/// The http check against stock Patroni (Debian's package, 3.0.2) as a stock haproxy.cfg uses it: a leader
/// says Primary, a replica tagged noloadbalance (503 on both /primary and /replica) fails at WrongRole, and a
/// stopped Patroni fails at Refused.
/// </summary>
public sealed class ChecksAgainstStockPatroniTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task The_http_check_reads_a_stock_Patroni_leader_replica_and_stopped_node()
    {
        Assert.True(File.Exists(PatroniNode.Patroni), $"{PatroniNode.Patroni} is missing: run scripts/setup.sh (Debian's patroni package)");
        using var etcd = new EtcdServer();
        using var dir = new TempDir("appl-patroni");
        var scope = $"ck-{Guid.NewGuid().ToString("N")[..10]}";
        using var check = new HttpCheck(Timeout, 16 * 1024 * 1024, TimeProvider.System);

        await using var leader = PatroniNode.Start(dir.Path, "p1", scope, etcd.ClientPort);
        await leader.WaitAsync("OPTIONS /primary answers 200", async () => await leader.OptionsAsync("/primary") == 200, Deadline);
        var primary = await check.RunAsync(new CheckTarget(new Backend("p1", "127.0.0.1", leader.PgPort), leader.ApiUrl + "/patroni"), CancellationToken.None);
        Assert.True(primary.Ok, primary.Detail);
        Assert.Equal(BackendRole.Primary, primary.Role);
        var login = await new PgsqlLoginCheck("postgres", null, "postgres", Timeout, TimeProvider.System)
            .RunAsync(new CheckTarget(new Backend("p1", "127.0.0.1", leader.PgPort), null), CancellationToken.None);
        Assert.Equal(BackendRole.Primary, login.Role);

        await using var replica = PatroniNode.Start(dir.Path, "p2", scope, etcd.ClientPort, replicaOnly: true);
        await replica.WaitAsync("a running replica", async () => await replica.StateAsync() is ("running", "replica"), Deadline);
        var neither = await check.RunAsync(new CheckTarget(new Backend("p2", "127.0.0.1", replica.PgPort), replica.ApiUrl), CancellationToken.None);
        Assert.False(neither.Ok);
        Assert.Equal(CheckLayer.WrongRole, neither.Layer);
        Assert.Contains("OPTIONS /primary: 503", neither.Detail, StringComparison.Ordinal);
        Assert.Contains("OPTIONS /replica?lag=16777216: 503", neither.Detail, StringComparison.Ordinal);
        var standby = await new PgsqlLoginCheck("postgres", null, "postgres", Timeout, TimeProvider.System)
            .RunAsync(new CheckTarget(new Backend("p2", "127.0.0.1", replica.PgPort), null), CancellationToken.None);
        Assert.Equal(BackendRole.Replica, standby.Role);

        await leader.StopAsync();
        Assert.True(leader.Process.HasExited);
        var stopped = await check.RunAsync(new CheckTarget(new Backend("p1", "127.0.0.1", leader.PgPort), leader.ApiUrl), CancellationToken.None);
        Assert.False(stopped.Ok);
        Assert.Equal(CheckLayer.Refused, stopped.Layer);
    }
}
