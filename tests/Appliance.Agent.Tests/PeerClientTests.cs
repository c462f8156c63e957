using Appliance.Agent.Ha;

namespace Appliance.Agent.Tests;

/// <summary>Before a leader race the agent reads its peers' <c>/patroni</c>: it must read Patroni's as well as ours.</summary>
public class PeerClientTests
{
    [Fact]
    public void Reads_a_real_patroni_primary()
    {
        var p = PeerClient.Parse("db1", Golden.Json("rest_leader_patroni.txt"));
        Assert.Equal(new Appliance.Ha.PeerStatus("db1", true, false, 74254400, false, 1, 13), p);
    }

    [Fact]
    public void Reads_a_real_patroni_replica_by_its_received_position()
    {
        var p = PeerClient.Parse("db2", Golden.Json("rest_replica_patroni.txt"));
        Assert.Equal(new Appliance.Ha.PeerStatus("db2", true, true, 74254400, false, 1, 13), p);
    }

    [Fact]
    public void Reads_tags_and_a_stopped_peer()
    {
        var json = System.Text.Json.JsonDocument.Parse("""{"state":"stopped","role":"replica","tags":{"nofailover":true,"failover_priority":3}}""").RootElement;
        var p = PeerClient.Parse("db3", json);
        Assert.False(p.Reachable);
        Assert.True(p.NoFailover);
        Assert.Equal(3, p.FailoverPriority);
        Assert.Null(p.WalPosition);
    }
}
