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
    public void Dynamic_parameters_override_defaults_and_yield_to_local_and_agent_owned_settings()
    {
        var pg = new PostgresqlSection
        {
            DataDir = "/d", Port = 6000,
            Parameters = new Dictionary<string, string> { ["work_mem"] = "8MB" },
        };
        var dynamic = new Dictionary<string, string>
        {
            ["max_wal_senders"] = "20", ["work_mem"] = "64MB", ["Port"] = "1", ["primary_conninfo"] = "host=evil",
            ["maintenance_work_mem"] = "256MB", ["log_line_prefix"] = "%m 'x' ",
        };
        var up = new Upstream("n1", "10.0.0.1", 5433);
        string conf = ManagedFiles.RenderConf(pg, "n2", "/d.run", up, dynamic);
        var lines = conf.Split('\n');
        Assert.Contains("max_wal_senders = '20'", lines);      // over the default
        Assert.Contains("work_mem = '8MB'", lines);            // the local TOML wins, as in Patroni
        Assert.Contains("maintenance_work_mem = '256MB'", lines);
        Assert.Contains("log_line_prefix = '%m ''x'' '", lines);
        Assert.Contains("port = '6000'", lines);               // never overridable
        Assert.DoesNotContain(lines, l => l.StartsWith("Port", StringComparison.OrdinalIgnoreCase) && l != "port = '6000'");
        Assert.Single(lines, l => l.StartsWith("primary_conninfo = 'host=''10.0.0.1''", StringComparison.Ordinal));
        Assert.DoesNotContain("evil", conf, StringComparison.Ordinal);
        Assert.Equal(ManagedFiles.RenderConf(pg, "n2", "/d.run", up), ManagedFiles.RenderConf(pg, "n2", "/d.run", up, new Dictionary<string, string>()));
    }

    [Fact]
    public void Changed_settings_name_what_a_reload_changes()
    {
        var pg = new PostgresqlSection { DataDir = "/d" };
        string before = ManagedFiles.RenderConf(pg, "n1", "/d.run", null, new Dictionary<string, string> { ["work_mem"] = "4MB", ["jit"] = "off" });
        string after = ManagedFiles.RenderConf(pg, "n1", "/d.run", null, new Dictionary<string, string> { ["work_mem"] = "7MB", ["max_locks_per_transaction"] = "128" });
        Assert.Equal(["jit", "max_locks_per_transaction", "work_mem"], ManagedFiles.ChangedSettings(before, after));
        Assert.Empty(ManagedFiles.ChangedSettings(after, after));
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
