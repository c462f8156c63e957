namespace Appliance.Etcd.Tests;

public class EtcdKeysTests
{
    [Theory]
    [InlineData("/service", "refstack", "/service/refstack/")]
    [InlineData("service", "refstack", "/service/refstack/")]
    [InlineData("/service/", "refstack", "/service/refstack/")]
    [InlineData("//service//", "refstack", "/service/refstack/")]
    [InlineData("", "refstack", "/service/refstack/")]
    [InlineData("/a/b", "c", "/a/b/c/")]
    public void Prefix_normalises_slashes_like_Patroni(string ns, string scope, string prefix)
        => Assert.Equal(prefix, new EtcdKeys(ns, scope).Prefix);

    [Fact]
    public void Keys_are_Patroni_3s()
    {
        var k = new EtcdKeys("/service", "refstack");
        Assert.Equal("/service/refstack/initialize", k.Initialize);
        Assert.Equal("/service/refstack/config", k.Config);
        Assert.Equal("/service/refstack/leader", k.Leader);
        Assert.Equal("/service/refstack/members/db1", k.Member("db1"));
        Assert.Equal("/service/refstack/history", k.History);
        Assert.Equal("/service/refstack/status", k.Status);
        Assert.Equal("/service/refstack/failover", k.Failover);
        Assert.Equal("/service/refstack/sync", k.Sync);
    }

    [Theory]
    [InlineData("/service/refstack/members/db1", "db1")]
    [InlineData("/service/refstack/members/", null)]
    [InlineData("/service/refstack/members/a/b", null)]
    [InlineData("/service/refstack/leader", null)]
    [InlineData("/service/other/members/db1", null)]
    public void MemberNameOf_takes_only_direct_children(string key, string? name)
        => Assert.Equal(name, new EtcdKeys("/service", "refstack").MemberNameOf(key));

    [Fact]
    public void RangeEnd_increments_the_last_byte()
    {
        Assert.Equal("/service/refstack0"u8.ToArray(), EtcdKeys.RangeEnd("/service/refstack/"u8));
        Assert.Equal(new byte[] { 0x62 }, EtcdKeys.RangeEnd(new byte[] { 0x61, 0xff }));
    }
}
