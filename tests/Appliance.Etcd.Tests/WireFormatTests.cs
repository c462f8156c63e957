using Appliance.Cluster;

namespace Appliance.Etcd.Tests;

/// <summary>
/// What we write is what Patroni 3.0.2 writes, byte for byte, under the keys it uses; and what Patroni
/// wrote we read. The golden file is the <c>etcdctl get --prefix /service</c> of a real Patroni cluster.
/// </summary>
public class WireFormatTests(EtcdTestCluster etcd) : IClassFixture<EtcdTestCluster>
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Golden = new(() =>
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Golden", "patroni-3.0.2_etcd_get_prefix_service.txt"));
        var d = new Dictionary<string, string>();
        for (var i = 0; i + 1 < lines.Length; i += 2) d[lines[i]] = lines[i + 1];
        return d;
    });

    private static readonly MemberData Db1 = new()
    {
        ConnUrl = "postgres://10.231.0.11:5432/postgres",
        ApiUrl = "http://10.231.0.11:8008/patroni",
        State = "running",
        Role = "master",
        Version = "3.0.2",
        XlogLocation = 74254400,
        Timeline = 13,
    };

    [Fact]
    public async Task Member_and_status_values_are_byte_identical_to_Patronis_under_Patronis_keys()
    {
        // The only test that uses scope "refstack" in this etcd: the keys must be exactly Patroni's.
        await using var store = etcd.Store("refstack", "db1");
        await store.TouchMemberAsync(Db1, CancellationToken.None);
        await store.WriteStatusAsync(74254400, CancellationToken.None);
        Assert.True(await store.TryAcquireLeaderAsync(CancellationToken.None));

        Assert.Equal(Golden.Value["/service/refstack/members/db1"], await etcd.GetAsync("/service/refstack/members/db1"));
        Assert.Equal(Golden.Value["/service/refstack/status"], await etcd.GetAsync("/service/refstack/status"));
        Assert.Equal(Golden.Value["/service/refstack/leader"], await etcd.GetAsync("/service/refstack/leader"));
        Assert.Equal(
            ["/service/refstack/leader", "/service/refstack/members/db1", "/service/refstack/status"],
            (await etcd.KeysAsync("/service/refstack/")).Order(StringComparer.Ordinal));
        // As in etcd_leases.txt: member and leader on one lease.
        Assert.Equal(store.LeaseId, await etcd.LeaseOfAsync("/service/refstack/members/db1"));
        Assert.Equal(store.LeaseId, await etcd.LeaseOfAsync("/service/refstack/leader"));
        await store.RevokeLeaseAsync(CancellationToken.None);
        Assert.Empty(await etcd.KeysAsync("/service/refstack/leader"));
    }

    [Fact]
    public async Task A_cluster_written_by_Patroni_loads_into_the_snapshot()
    {
        var ns = "/" + EtcdTestCluster.NewScope();
        foreach (var (key, value) in Golden.Value) await etcd.PutAsync(ns + key["/service".Length..], value);
        await using var store = etcd.Store("refstack", "db9", @namespace: ns);

        var s = await store.LoadAsync(CancellationToken.None);

        Assert.Equal("7712490607480592036", s.Initialize);
        Assert.True(s.IsInitialized);
        Assert.Equal("db1", s.Leader?.Name);
        Assert.Equal(["db1", "db2", "db3"], s.Members.Select(m => m.Name));
        Assert.Equal(Db1, s.LeaderMember?.Data);
        Assert.Equal(("10.231.0.12", 5432), s.GetMember("db2")?.PostgresEndpoint);
        Assert.Equal(74254400, s.LastLsn);
        Assert.Equal(Golden.Value["/service/refstack/config"], s.ConfigJson);
        Assert.Equal(Golden.Value["/service/refstack/history"], s.HistoryJson);
        Assert.Equal("{}", s.FailoverJson);
        Assert.Null(s.SyncJson);
        Assert.Equal(0, store.BadMemberValues);
    }
}
