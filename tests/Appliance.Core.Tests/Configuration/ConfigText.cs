using Appliance.Configuration;

namespace Appliance.Core.Tests.Configuration;

/// <summary>Configuration texts and a loader shorthand shared by the configuration tests.</summary>
internal static class ConfigText
{
    /// <summary>The smallest valid file: the three required keys.</summary>
    public const string Minimal = """
        [node]
        name = "db1"

        [cluster]
        scope = "main"

        [postgresql]
        data_dir = "/var/lib/postgresql/15/main"
        """;

    /// <summary>A file that sets every section, most keys to a non-default value.</summary>
    public const string Full = """
        [node]
        name = "db2"
        address = "10.0.0.2"

        [cluster]
        scope = "prod"
        namespace = "/appliance"

        [etcd]
        endpoints = ["http://10.0.0.1:2379", "https://etcd.example:2379/"]
        username = "root"
        password = "etcd-secret"
        ca_file = "/etc/ssl/ca.pem"
        cert_file = "/etc/ssl/client.pem"
        key_file = "/etc/ssl/client.key"

        [agent]
        ttl = 40
        loop_wait = 5
        retry_timeout = 15
        maximum_lag_on_failover = 0
        primary_start_timeout = 60

        [postgresql]
        bin_dir = "/opt/pg/bin"
        data_dir = "/srv/pg"
        listen = "10.0.0.2,127.0.0.1"
        port = 5433
        connect_address = "10.0.0.2:5433"
        run_as = "pg"
        pg_hba = ["local all all peer", "host replication replicator 10.0.0.0/24 scram-sha-256"]
        superuser = { username = "admin", password = "su-secret" }

        [postgresql.parameters]
        shared_buffers = "1GB"
        max_connections = 200
        hot_standby = true
        fsync = false
        random_page_cost = 1.1
        "search_path" = '"$user", public'

        [postgresql.replication]
        username = "repl"
        password = "repl-secret"

        [restapi]
        listen = "[::]:8009"
        connect_address = "db2.example:8009"
        username = "api"
        password = "api-secret"

        [metrics]
        enabled = false

        [tags]
        nofailover = true
        failover_priority = 0
        noloadbalance = true
        clonefrom = true
        nosync = true
        """;

    public static ConfigResult Load(params (string FileName, string Text)[] files) => ConfigLoader.LoadFromText(files);

    /// <summary><see cref="Minimal"/> as <c>appliance.toml</c>, then <paramref name="dropIn"/> as <c>over.toml</c>.</summary>
    public static ConfigResult Over(string dropIn) => Load(("appliance.toml", Minimal), ("over.toml", dropIn));

    public static ApplianceConfig LoadValid(params (string FileName, string Text)[] files)
    {
        var result = ConfigLoader.LoadFromText(files);
        Assert.True(result.IsValid, result.ToString());
        return result.Config;
    }

    /// <summary>The only error of <paramref name="result"/>; fails listing all of them otherwise.</summary>
    public static ConfigError Single(ConfigResult result)
    {
        Assert.False(result.IsValid, "expected errors, the configuration loaded");
        Assert.True(result.Errors.Count == 1, $"expected one error, found {result.Errors.Count}:\n{result}");
        return result.Errors[0];
    }
}
