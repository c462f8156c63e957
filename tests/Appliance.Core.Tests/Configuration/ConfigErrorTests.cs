using Appliance.Configuration;

namespace Appliance.Core.Tests.Configuration;

/// <summary>Each class of error names its file, line, column and key, and says what was expected and found.</summary>
public sealed class ConfigErrorTests
{
    [Fact]
    public void Syntax_error_points_at_the_line()
    {
        var result = ConfigText.Load(("bad.toml", "[node]\nname = \"db1\nport = 1\n"));

        Assert.False(result.IsValid);
        Assert.Equal(new ConfigError("bad.toml", 2, 12, "", "TOML syntax error: Invalid newline in a string"), result.Errors[0]);
        Assert.Equal("bad.toml:2:12: TOML syntax error: Invalid newline in a string", result.Errors[0].ToString());
    }

    [Fact]
    public void Wrong_type_says_what_was_expected_and_found()
    {
        var error = ConfigText.Single(ConfigText.Load(("a.toml", ConfigText.Minimal + "\n[agent]\nloop_wait = \"10\"\n")));

        Assert.Equal(new ConfigError("a.toml", 10, 13, "agent.loop_wait", "expected an integer, found a string (\"10\")"), error);
        Assert.Equal("a.toml:10:13: agent.loop_wait: expected an integer, found a string (\"10\")", error.ToString());
    }

    [Theory]
    [InlineData("agent", "ttl = 4", "agent.ttl", "expected an integer of at least 5, found 4")]
    [InlineData("agent", "loop_wait = 0", "agent.loop_wait", "expected an integer of at least 1, found 0")]
    [InlineData("agent", "retry_timeout = -1", "agent.retry_timeout", "expected an integer of at least 1, found -1")]
    [InlineData("agent", "maximum_lag_on_failover = -1", "agent.maximum_lag_on_failover", "expected an integer of at least 0, found -1")]
    [InlineData("agent", "primary_start_timeout = -5", "agent.primary_start_timeout", "expected an integer of at least 0, found -5")]
    [InlineData("tags", "failover_priority = -1", "tags.failover_priority", "expected an integer of at least 0, found -1")]
    [InlineData("postgresql", "port = 0", "postgresql.port", "expected an integer from 1 to 65535, found 0")]
    [InlineData("postgresql", "port = 65536", "postgresql.port", "expected an integer from 1 to 65535, found 65536")]
    [InlineData("agent", "ttl = 99999999999", "agent.ttl", "expected an integer of at least 5, found 99999999999")]
    public void Out_of_range(string table, string line, string key, string message)
    {
        var error = ConfigText.Single(ConfigText.Over($"[{table}]\n{line}\n"));

        Assert.Equal(new ConfigError("over.toml", 2, line.IndexOf('=', StringComparison.Ordinal) + 3, key, message), error);
    }

    [Fact]
    public void Missing_required_keys_are_reported_against_the_last_file()
    {
        var result = ConfigText.Load(("appliance.toml", "[node]\naddress = \"10.0.0.1\"\n"), ("conf.d/10.toml", "[agent]\nttl = 30\n"));

        Assert.Equal(
        [
            new ConfigError("conf.d/10.toml", 0, 0, "node.name", "required key missing: set it in one of the configuration files"),
            new ConfigError("conf.d/10.toml", 0, 0, "cluster.scope", "required key missing: set it in one of the configuration files"),
            new ConfigError("conf.d/10.toml", 0, 0, "postgresql.data_dir", "required key missing: set it in one of the configuration files"),
        ], result.Errors);
    }

    [Theory]
    [InlineData("[agent]\nloopwait = 5", "agent.loopwait", "unknown key; did you mean 'loop_wait'?")]
    [InlineData("[agent]\ntll = 30", "agent.tll", "unknown key; did you mean 'ttl'?")]
    [InlineData("[agent]\nLoopWait = 5", "agent.LoopWait", "unknown key; did you mean 'loop_wait'?")]
    [InlineData("[agnet]\nttl = 30", "agnet", "unknown key; did you mean 'agent'?")]
    [InlineData("[tags]\nfailoverpriority = 2", "tags.failoverpriority", "unknown key; did you mean 'failover_priority'?")]
    [InlineData("[postgresql.superuser]\nuser = \"x\"", "postgresql.superuser.user", "unknown key; expected one of: username, password")]
    [InlineData("[metrics]\ncolour = true", "metrics.colour", "unknown key; expected one of: enabled")]
    public void Unknown_key_suggests_the_nearest_known_one(string text, string key, string message)
    {
        var error = ConfigText.Single(ConfigText.Load(("u.toml", ConfigText.Minimal + "\n" + text + "\n")));

        Assert.Equal((key, message), (error.Key, error.Message));
        Assert.Equal(text.StartsWith("[agnet]", StringComparison.Ordinal) ? (9, 2) : (10, 1), (error.Line, error.Column));
    }

    [Fact]
    public void Lease_timing_rule_explains_itself_and_points_at_the_later_key()
    {
        var result = ConfigText.Load(
            ("appliance.toml", ConfigText.Minimal + "\n[agent]\nttl = 20\nloop_wait = 10\n"),
            ("conf.d/50.toml", "[agent]\nretry_timeout = 6\n"));

        var error = ConfigText.Single(result);
        Assert.Equal(("conf.d/50.toml", 2, 1, "agent.retry_timeout"), (error.File, error.Line, error.Column, error.Key));
        Assert.StartsWith("expected loop_wait + 2 × retry_timeout <= ttl, found 10 + 2 × 6 = 22 > 20: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("demote before the lease expires", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lease_timing_rule_accepts_the_boundary()
    {
        ConfigText.LoadValid(("a.toml", ConfigText.Minimal + "\n[agent]\nttl = 20\nloop_wait = 10\nretry_timeout = 5\n"));
    }

    [Fact]
    public void Lease_timing_rule_applies_to_defaults()
    {
        // ttl lowered below the default loop_wait (10) + 2 × retry_timeout (10).
        var error = ConfigText.Single(ConfigText.Load(("a.toml", ConfigText.Minimal + "\n[agent]\nttl = 29\n")));

        Assert.Equal(("agent.ttl", 10, 1), (error.Key, error.Line, error.Column));
    }

    [Theory]
    [InlineData("cert_file", "key_file")]
    [InlineData("key_file", "cert_file")]
    public void Client_certificate_and_key_go_together(string set, string unset)
    {
        var error = ConfigText.Single(ConfigText.Load(("a.toml", ConfigText.Minimal + $"\n[etcd]\n{set} = \"/x\"\n")));

        Assert.Equal(($"etcd.{set}", 10, 1), (error.Key, error.Line, error.Column));
        Assert.Equal($"expected etcd.{unset} too, found only etcd.{set}: mutual TLS needs the client certificate and its key together", error.Message);
    }

    [Theory]
    [InlineData("10.0.0.1:2379")]
    [InlineData("ftp://10.0.0.1:2379")]
    [InlineData("http://10.0.0.1")]
    [InlineData("http://:2379")]
    [InlineData("https://etcd:99999")]
    [InlineData("http://a b:2379")]
    public void Endpoint_must_be_an_http_url_with_host_and_port(string endpoint)
    {
        var error = ConfigText.Single(ConfigText.Over($"[etcd]\nendpoints = [\"http://ok:2379\", \"{endpoint}\"]\n"));

        // The column of the bad element, not of the array.
        Assert.Equal(("etcd.endpoints", 2, 32), (error.Key, error.Line, error.Column));
        Assert.StartsWith("expected an http:// or https:// URL with a host and a port", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:2379")]
    [InlineData("https://etcd-1.example.org:2379/")]
    [InlineData("http://[::1]:2379")]
    public void Good_endpoints_load(string endpoint)
    {
        var config = ConfigText.LoadValid(("a.toml", ConfigText.Minimal + $"\n[etcd]\nendpoints = [\"{endpoint}\"]\n"));

        Assert.Equal([endpoint], config.Etcd.Endpoints);
    }

    [Fact]
    public void Empty_endpoint_list_is_refused()
    {
        var error = ConfigText.Single(ConfigText.Load(("a.toml", ConfigText.Minimal + "\n[etcd]\nendpoints = []\n")));

        Assert.Equal(("etcd.endpoints", "expected at least 1 element(s), found an empty array"), (error.Key, error.Message));
    }

    [Theory]
    [InlineData("restapi", "listen", "8008")]
    [InlineData("restapi", "listen", "0.0.0.0:")]
    [InlineData("restapi", "listen", "::1:8008")]
    [InlineData("restapi", "connect_address", "host:port")]
    [InlineData("postgresql", "connect_address", "db1")]
    public void Addresses_must_be_host_and_port(string table, string key, string value)
    {
        var error = ConfigText.Single(ConfigText.Over($"[{table}]\n{key} = \"{value}\"\n"));

        Assert.Equal($"{table}.{key}", error.Key);
        Assert.Equal($"expected host:port (port 1-65535, IPv6 in brackets), found \"{value}\"", error.Message);
    }

    [Theory]
    [InlineData("node", "name", "", "expected a non-empty name, found an empty string")]
    [InlineData("node", "name", "db/1", "expected a name without '/' (it is one segment of an etcd key), found \"db/1\"")]
    [InlineData("cluster", "scope", "a/b", "expected a name without '/' (it is one segment of an etcd key), found \"a/b\"")]
    [InlineData("postgresql", "data_dir", "", "expected a non-empty string, found an empty string")]
    public void Names_must_be_non_empty_without_slashes(string table, string key, string value, string message)
    {
        var error = ConfigText.Single(ConfigText.Over($"[{table}]\n{key} = \"{value}\"\n"));

        Assert.Equal(new ConfigError("over.toml", 2, key.Length + 4, $"{table}.{key}", message), error);
    }

    [Fact]
    public void A_section_that_is_not_a_table_is_a_type_error()
    {
        var error = ConfigText.Single(ConfigText.Load(("a.toml", "agent = 5\n" + ConfigText.Minimal)));

        Assert.Equal(new ConfigError("a.toml", 1, 9, "agent", "expected a table ([agent]), found an integer (5)"), error);
    }

    [Fact]
    public void Parameters_refuse_arrays_and_tables()
    {
        var result = ConfigText.Load(("a.toml", ConfigText.Minimal + "\n[postgresql.parameters]\nok = 1\nlist = [1, 2]\nsub = { a = 1 }\n"));

        Assert.Equal(
        [
            "a.toml:11:8: postgresql.parameters.list: expected a string, integer, float or boolean, found an array",
            "a.toml:12:7: postgresql.parameters.sub: expected a string, integer, float or boolean, found a table",
        ], result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Pg_hba_must_hold_strings()
    {
        var error = ConfigText.Single(ConfigText.Load(("a.toml", ConfigText.Minimal + "\npg_hba = [\"local all all peer\", 5]\n")));

        Assert.Equal(new ConfigError("a.toml", 9, 33, "postgresql.pg_hba", "expected a string, found an integer (5)"), error);
    }

    [Fact]
    public void Every_error_is_reported_at_once_in_file_order()
    {
        var result = ConfigText.Load(
            ("appliance.toml", """
                [node]
                name = "db/1"

                [agent]
                loopwait = 5
                ttl = "30"

                [postgresql]
                port = 70000
                data_dir = "/srv/pg"
                """),
            ("conf.d/10.toml", """
                [etcd]
                endpoints = ["etcd:2379"]
                cert_file = "/c.pem"
                [restapi]
                listen = 8008
                """));

        Assert.Equal(
        [
            "appliance.toml:2:8: node.name: expected a name without '/' (it is one segment of an etcd key), found \"db/1\"",
            "appliance.toml:5:1: agent.loopwait: unknown key; did you mean 'loop_wait'?",
            "appliance.toml:6:7: agent.ttl: expected an integer, found a string (\"30\")",
            "appliance.toml:9:8: postgresql.port: expected an integer from 1 to 65535, found 70000",
            "conf.d/10.toml:2:14: etcd.endpoints: expected an http:// or https:// URL with a host and a port, such as \"http://10.0.0.1:2379\", found \"etcd:2379\"",
            "conf.d/10.toml:3:1: etcd.cert_file: expected etcd.key_file too, found only etcd.cert_file: mutual TLS needs the client certificate and its key together",
            "conf.d/10.toml:5:10: restapi.listen: expected a string, found an integer (8008)",
            "conf.d/10.toml:0:0: cluster.scope: required key missing: set it in one of the configuration files",
        ], result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Syntax_errors_in_several_files_are_all_reported()
    {
        var result = ConfigText.Load(("a.toml", "[node\n"), ("b.toml", ConfigText.Minimal), ("c.toml", "x = = 1\n"));

        Assert.Contains(result.Errors, e => e.File == "a.toml" && e.Line == 1);
        Assert.Contains(result.Errors, e => e.File == "c.toml" && e.Line == 1);
        Assert.DoesNotContain(result.Errors, e => e.File == "b.toml");
    }

    [Fact]
    public void Duplicate_key_in_one_file_is_an_error()
    {
        var result = ConfigText.Load(("a.toml", ConfigText.Minimal + "\n[node]\nname = \"db2\"\n"));

        Assert.False(result.IsValid);
        Assert.All(result.Errors, e => Assert.Equal("a.toml", e.File));
    }

    [Fact]
    public void Float_and_date_values_are_type_errors()
    {
        var result = ConfigText.Load(("a.toml", ConfigText.Minimal + "\n[agent]\nttl = 30.0\nloop_wait = 1979-05-27\n"));

        Assert.Equal(
        [
            "a.toml:10:7: agent.ttl: expected an integer, found a float (30)",
            "a.toml:11:13: agent.loop_wait: expected an integer, found a date-time (1979-05-27)",
        ], result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Array_of_tables_is_a_type_error()
    {
        var error = ConfigText.Single(ConfigText.Load(("a.toml", ConfigText.Minimal + "\n[[tags]]\nnosync = true\n")));

        Assert.Equal(("tags", "expected a table ([tags]), found an array"), (error.Key, error.Message));
    }
}
