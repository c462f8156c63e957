using Appliance.Configuration;
using Appliance.Node;
using Appliance.Postgres;

namespace Appliance.Postgres.Tests;

public class ManagedFilesTests
{
    [Theory]
    [InlineData("pg-node.1", "pg_node_1")]
    [InlineData("Node_A", "node_a")]
    [InlineData("db 1", "dbu00321")]
    [InlineData("dé", "du0233")]
    public void Slot_names_match_patroni(string member, string slot) => Assert.Equal(slot, ManagedFiles.SlotName(member));

    [Fact]
    public void Slot_names_are_cut_at_63() => Assert.Equal(63, ManagedFiles.SlotName(new string('a', 80)).Length);

    [Fact]
    public void Include_is_appended_once()
    {
        string once = ManagedFiles.WithInclude("port = 5432")!;
        Assert.EndsWith(ManagedFiles.IncludeLine + "\n", once, StringComparison.Ordinal);
        Assert.Null(ManagedFiles.WithInclude(once));
    }

    [Fact]
    public void Agent_owned_settings_win_over_parameters_and_defaults_yield_to_them()
    {
        var pg = new PostgresqlSection
        {
            DataDir = "/d", Port = 6000, Listen = "10.0.0.1",
            Parameters = new Dictionary<string, string> { ["port"] = "1", ["max_wal_senders"] = "5", ["work_mem"] = "8MB" },
        };
        string conf = ManagedFiles.RenderConf(pg, "n1", "/d.run", upstream: null);
        Assert.Contains("port = '6000'", conf, StringComparison.Ordinal);
        Assert.DoesNotContain("port = '1'", conf, StringComparison.Ordinal);
        Assert.Contains("max_wal_senders = '5'", conf, StringComparison.Ordinal);
        Assert.Contains("work_mem = '8MB'", conf, StringComparison.Ordinal);
        Assert.Contains("listen_addresses = '10.0.0.1'", conf, StringComparison.Ordinal);
        Assert.DoesNotContain("primary_conninfo", conf, StringComparison.Ordinal);
    }

    [Fact]
    public void Standby_conf_quotes_the_conninfo_twice()
    {
        var pg = new PostgresqlSection { DataDir = "/d", Replication = new Credentials { Username = "rep", Password = @"a'b\c" } };
        string conf = ManagedFiles.RenderConf(pg, "Node-2", "/d.run", new Upstream("n1", "10.0.0.1", 5433));
        // conninfo: 'a\'b\\c'; then in postgresql.conf every ' and \ doubled again.
        Assert.Contains(@"primary_conninfo = 'host=''10.0.0.1'' port=5433 user=''rep'' password=''a\\''b\\\\c'' application_name=''Node-2''", conf, StringComparison.Ordinal);
        Assert.Contains("primary_slot_name = 'node_2'", conf, StringComparison.Ordinal);
        Assert.Contains("recovery_target_timeline = 'latest'", conf, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_hba_lets_replication_and_superuser_in_with_scram()
    {
        string hba = ManagedFiles.RenderHba(new PostgresqlSection());
        Assert.Contains("host replication replicator 0.0.0.0/0 scram-sha-256", hba, StringComparison.Ordinal);
        Assert.Contains("host all all ::/0 scram-sha-256", hba, StringComparison.Ordinal);
        Assert.Contains("local all all peer map=appliance", hba, StringComparison.Ordinal);
        Assert.DoesNotContain("trust", hba, StringComparison.Ordinal);
    }

    [Fact]
    public void Configured_hba_lines_replace_the_default()
    {
        string hba = ManagedFiles.RenderHba(new PostgresqlSection { PgHba = ["local all all trust"] });
        Assert.Contains("local all all trust", hba, StringComparison.Ordinal);
        Assert.DoesNotContain("scram", hba, StringComparison.Ordinal);
    }
}
