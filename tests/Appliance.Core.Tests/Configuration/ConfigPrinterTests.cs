using Appliance.Configuration;

namespace Appliance.Core.Tests.Configuration;

/// <summary><see cref="ConfigPrinter.Render"/>: every key shown, secrets masked, output loads back.</summary>
public sealed class ConfigPrinterTests
{
    [Fact]
    public void Every_password_that_is_set_is_masked()
    {
        var text = ConfigPrinter.Render(ConfigText.LoadValid(("full.toml", ConfigText.Full)));

        foreach (var secret in new[] { "etcd-secret", "su-secret", "repl-secret", "api-secret" })
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.Equal(4, text.Split('\n').Count(l => l == $"password = \"{ConfigPrinter.Mask}\""));
    }

    [Fact]
    public void Unset_passwords_are_shown_as_not_set()
    {
        var text = ConfigPrinter.Render(ConfigText.LoadValid(("a.toml", ConfigText.Minimal)));

        Assert.DoesNotContain($"password = \"{ConfigPrinter.Mask}\"", text, StringComparison.Ordinal);
        Assert.Equal(5, text.Split('\n').Count(l => l == "#password = (not set)")); // etcd, restapi, superuser, replication, proxy.check
    }

    [Fact]
    public void Every_section_and_key_appears_with_defaults()
    {
        var text = ConfigPrinter.Render(ConfigText.LoadValid(("a.toml", ConfigText.Minimal)));

        foreach (var header in new[] { "[node]", "[cluster]", "[etcd]", "[agent]", "[postgresql]", "[postgresql.parameters]", "[postgresql.superuser]", "[postgresql.replication]", "[restapi]", "[metrics]", "[tags]" })
            Assert.Contains($"\n{header}\n", "\n" + text, StringComparison.Ordinal);
        foreach (var line in new[] { "ttl = 30", "loop_wait = 10", "retry_timeout = 10", "maximum_lag_on_failover = 1048576", "primary_start_timeout = 300",
                     "port = 5432", "endpoints = [\n  \"http://127.0.0.1:2379\",\n]", "listen = \"0.0.0.0:8008\"", "enabled = true", "failover_priority = 1",
                     "nofailover = false", "username = \"replicator\"", "pg_hba = []", "#ca_file = (not set)", "#connect_address = (not set)" })
            Assert.Contains(line, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Rendered_output_loads_back_to_the_same_configuration()
    {
        var withoutSecrets = ConfigText.Full.Replace(", password = \"su-secret\"", "", StringComparison.Ordinal)
            .Replace("password = ", "#password = ", StringComparison.Ordinal);
        var original = ConfigText.LoadValid(("full.toml", withoutSecrets));

        var text = ConfigPrinter.Render(original);
        var reloaded = ConfigText.LoadValid(("rendered.toml", text));

        AssertSameConfig(original, reloaded);
        Assert.Equal(text, ConfigPrinter.Render(reloaded));
    }

    [Fact]
    public void Defaults_round_trip()
    {
        var original = ConfigText.LoadValid(("a.toml", ConfigText.Minimal));

        AssertSameConfig(original, ConfigText.LoadValid(("rendered.toml", ConfigPrinter.Render(original))));
    }

    [Fact]
    public void Masked_passwords_load_back_as_the_mask_and_nothing_else_changes()
    {
        var original = ConfigText.LoadValid(("full.toml", ConfigText.Full));

        var reloaded = ConfigText.LoadValid(("rendered.toml", ConfigPrinter.Render(original)));

        Assert.Equal(ConfigPrinter.Mask, reloaded.Etcd.Password);
        Assert.Equal(ConfigPrinter.Mask, reloaded.Postgresql.Superuser.Password);
        AssertSameConfig(original with
        {
            Etcd = original.Etcd with { Password = ConfigPrinter.Mask },
            Restapi = original.Restapi with { Password = ConfigPrinter.Mask },
            Postgresql = original.Postgresql with
            {
                Superuser = original.Postgresql.Superuser with { Password = ConfigPrinter.Mask },
                Replication = original.Postgresql.Replication with { Password = ConfigPrinter.Mask },
            },
        }, reloaded);
    }

    [Fact]
    public void Strings_with_quotes_backslashes_and_control_characters_survive()
    {
        var original = new ApplianceConfig
        {
            Node = new() { Name = "db1" },
            Cluster = new() { Scope = "main" },
            Postgresql = new()
            {
                DataDir = "C:\\odd \"path\"\twith\u0001control",
                Parameters = new Dictionary<string, string> { ["odd key"] = "a'b\"c\\d\n", ["archive_command"] = "cp %p /x/%f" },
                PgHba = ["host all all 0.0.0.0/0 scram-sha-256 # \"quoted\""],
            },
        };

        AssertSameConfig(original, ConfigText.LoadValid(("rendered.toml", ConfigPrinter.Render(original))));
    }

    /// <summary>Records compare by value except their collections (compared by reference): compare those by content.</summary>
    private static void AssertSameConfig(ApplianceConfig expected, ApplianceConfig actual)
    {
        Assert.Equal(expected.Etcd.Endpoints, actual.Etcd.Endpoints);
        Assert.Equal(expected.Postgresql.PgHba, actual.Postgresql.PgHba);
        Assert.Equal(expected.Postgresql.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal), actual.Postgresql.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal));
        var (system, back) = (expected.System, actual.System);
        Assert.Equal([system.Roles, system.Dns, system.Ntp, system.EtcdInitialCluster], [back.Roles, back.Dns, back.Ntp, back.EtcdInitialCluster]);
        var normalized = actual with
        {
            Etcd = actual.Etcd with { Endpoints = expected.Etcd.Endpoints },
            Postgresql = actual.Postgresql with { PgHba = expected.Postgresql.PgHba, Parameters = expected.Postgresql.Parameters },
            System = back with { Roles = system.Roles, Dns = system.Dns, Ntp = system.Ntp, EtcdInitialCluster = system.EtcdInitialCluster },
        };
        Assert.Equal(expected, normalized);
    }
}
