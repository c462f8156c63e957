using Appliance.Cluster;

namespace Appliance.Core.Tests.Cluster;

/// <summary>The <c>sync</c> key and the synchronous settings, read and written as Patroni does.</summary>
public class SyncKeyTests
{
    [Fact] public void Writes_the_key_as_patroni_does()
    {
        Assert.Equal("""{"leader":"db1","sync_standby":"db2,db3"}""", SyncState.ToJson("db1", ["db3", "db2"]));
        Assert.Equal("""{"leader":"db1","sync_standby":null}""", SyncState.ToJson("db1", []));
    }

    [Fact] public void Reads_members_and_matches_case_insensitively()
    {
        var s = SyncState.Parse("""{"leader":"db1","sync_standby":"db2, DB3"}""", 4);
        Assert.Equal<string>(["db2", "DB3"], s.Members);
        Assert.True(s.Matches("db1"));
        Assert.True(s.Matches("db3"));
        Assert.False(s.IsSyncStandby("db1"));
        Assert.False(s.Matches("db4"));
        Assert.Equal(4, s.Version);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("""{"sync_standby":"db2"}""")]
    public void Anything_without_a_leader_is_empty(string? json)
    {
        var s = SyncState.Parse(json, 3);
        Assert.True(s.IsEmpty);
        Assert.False(s.Matches("db2"));
    }

    [Fact] public void Reads_the_synchronous_settings_from_the_dynamic_configuration()
    {
        var s = SyncSettings.From("""{"synchronous_mode":"on","synchronous_mode_strict":true,"synchronous_node_count":2,"maximum_lag_on_syncnode":"1048576"}""");
        Assert.Equal(new SyncSettings { Enabled = true, Strict = true, NodeCount = 2, MaximumLagOnSyncNode = 1_048_576 }, s);
        Assert.False(SyncSettings.From("""{"synchronous_mode":false}""").Enabled);
        Assert.False(SyncSettings.From("not json").Enabled);
        Assert.Equal(1, SyncSettings.From("""{"synchronous_node_count":0}""").NodeCount);
    }
}
