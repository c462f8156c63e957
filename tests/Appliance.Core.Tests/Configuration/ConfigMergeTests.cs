using Appliance.Configuration;

namespace Appliance.Core.Tests.Configuration;

/// <summary>Defaults, and how several files merge: later files win key by key, tables merge deeply, arrays replace.</summary>
public sealed class ConfigMergeTests
{
    [Fact]
    public void Minimal_file_gets_every_default()
    {
        var config = ConfigText.LoadValid(("a.toml", ConfigText.Minimal));

        Assert.Equal("db1", config.Node.Name);
        Assert.Equal("main", config.Cluster.Scope);
        Assert.Equal("/var/lib/postgresql/15/main", config.Postgresql.DataDir);
        var defaults = new ApplianceConfig();
        Assert.Equal(defaults.Agent, config.Agent);
        Assert.Equal(defaults.Metrics, config.Metrics);
        Assert.Equal(defaults.Tags, config.Tags);
        Assert.Equal(defaults.Restapi, config.Restapi);
        Assert.Equal(defaults.Etcd.Endpoints, config.Etcd.Endpoints);
        Assert.Equal(defaults.Postgresql.Superuser, config.Postgresql.Superuser);
        Assert.Equal(5432, config.Postgresql.Port);
        Assert.Empty(config.Postgresql.Parameters);
    }

    [Fact]
    public void Full_file_sets_every_key()
    {
        var config = ConfigText.LoadValid(("full.toml", ConfigText.Full));

        Assert.Equal(new NodeSection { Name = "db2", Address = "10.0.0.2" }, config.Node);
        Assert.Equal(new ClusterSection { Scope = "prod", Namespace = "/appliance" }, config.Cluster);
        Assert.Equal(["http://10.0.0.1:2379", "https://etcd.example:2379/"], config.Etcd.Endpoints);
        Assert.Equal(("root", "etcd-secret", "/etc/ssl/ca.pem", "/etc/ssl/client.pem", "/etc/ssl/client.key"),
            (config.Etcd.Username, config.Etcd.Password, config.Etcd.CaFile, config.Etcd.CertFile, config.Etcd.KeyFile));
        Assert.Equal(new AgentSection { Ttl = 40, LoopWait = 5, RetryTimeout = 15, MaximumLagOnFailover = 0, PrimaryStartTimeout = 60 }, config.Agent);
        var pg = config.Postgresql;
        Assert.Equal(("/opt/pg/bin", "/srv/pg", "10.0.0.2,127.0.0.1", 5433, "10.0.0.2:5433", "pg"),
            (pg.BinDir, pg.DataDir, pg.Listen, pg.Port, pg.ConnectAddress, pg.RunAs));
        Assert.Equal(["local all all peer", "host replication replicator 10.0.0.0/24 scram-sha-256"], pg.PgHba);
        Assert.Equal(new Credentials { Username = "admin", Password = "su-secret" }, pg.Superuser);
        Assert.Equal(new Credentials { Username = "repl", Password = "repl-secret" }, pg.Replication);
        Assert.Equal(new RestApiSection { Listen = "[::]:8009", ConnectAddress = "db2.example:8009", Username = "api", Password = "api-secret" }, config.Restapi);
        Assert.False(config.Metrics.Enabled);
        Assert.Equal(new TagsSection { Nofailover = true, FailoverPriority = 0, Noloadbalance = true, Clonefrom = true, Nosync = true }, config.Tags);
    }

    [Fact]
    public void Parameters_are_kept_as_postgresql_conf_strings()
    {
        var parameters = ConfigText.LoadValid(("full.toml", ConfigText.Full)).Postgresql.Parameters;

        Assert.Equal(new Dictionary<string, string>
        {
            ["shared_buffers"] = "1GB",
            ["max_connections"] = "200",
            ["hot_standby"] = "on",
            ["fsync"] = "off",
            ["random_page_cost"] = "1.1",
            ["search_path"] = "\"$user\", public",
        }, parameters);
    }

    [Fact]
    public void Later_file_wins_key_by_key_and_tables_merge_deeply()
    {
        var config = ConfigText.LoadValid(
            ("appliance.toml", ConfigText.Minimal + """

                [agent]
                ttl = 60
                loop_wait = 10

                [postgresql.parameters]
                shared_buffers = "1GB"
                work_mem = "4MB"

                [postgresql.superuser]
                username = "admin"
                password = "one"
                """),
            ("10-timing.toml", """
                [agent]
                loop_wait = 5
                """),
            ("20-pg.toml", """
                postgresql.parameters.work_mem = "64MB"
                postgresql.superuser.password = "two"
                agent.loop_wait = 3
                """));

        Assert.Equal(60, config.Agent.Ttl);
        Assert.Equal(3, config.Agent.LoopWait);
        Assert.Equal("1GB", config.Postgresql.Parameters["shared_buffers"]);
        Assert.Equal("64MB", config.Postgresql.Parameters["work_mem"]);
        Assert.Equal(new Credentials { Username = "admin", Password = "two" }, config.Postgresql.Superuser);
        Assert.Equal("main", config.Cluster.Scope);
    }

    [Fact]
    public void Later_array_replaces_the_earlier_one_whole()
    {
        var config = ConfigText.LoadValid(
            ("appliance.toml", ConfigText.Minimal + """

                [etcd]
                endpoints = ["http://a:2379", "http://b:2379", "http://c:2379"]
                """),
            ("50-etcd.toml", """
                [etcd]
                endpoints = ["http://z:2379"]
                """));

        Assert.Equal(["http://z:2379"], config.Etcd.Endpoints);
    }

    [Fact]
    public void Required_keys_may_come_from_different_files()
    {
        var config = ConfigText.LoadValid(
            ("appliance.toml", "node.name = \"db1\""),
            ("10-cluster.toml", "cluster.scope = \"main\""),
            ("20-pg.toml", "postgresql = { data_dir = \"/srv/pg\" }"));

        Assert.Equal(("db1", "main", "/srv/pg"), (config.Node.Name, config.Cluster.Scope, config.Postgresql.DataDir));
    }
}
