using Appliance.Configuration;

namespace Appliance.Core.Tests.Configuration;

/// <summary><c>[proxy]</c>: listeners, backends, checks and timeouts load; each mistake names its file, line, key and what was expected.</summary>
public sealed class ConfigProxyTests
{
    const string Listeners = """
        [proxy]
        discovery = "etcd"

        [[proxy.listener]]
        name = "primary"
        bind = "10.231.0.140:5000"
        role = "primary"

        [[proxy.listener]]
        name = "replicas"
        bind = "10.231.0.140:5001"
        role = "replica"
        balance = "leastconn"
        """;

    const string Static = """
        [proxy]
        discovery = "static"
        data_path = "splice"
        queue_timeout = 2.5
        maximum_replica_lag = 1048576

        [proxy.check]
        type = "pgsql-login"
        inter = 0.5
        rise = 1
        password = "s3cret"

        [[proxy.listener]]
        name = "primary"
        bind = "127.0.0.1:5000"
        role = "primary"

        [[proxy.backend]]
        name = "db1"
        address = "10.0.0.1:5432"
        weight = 3
        maxconn = 50
        """;

    static ConfigResult Balancer(string text) => ConfigLoader.LoadFromText([("lb.toml", text)], ConfigRole.Balancer);

    [Fact]
    public void A_proxy_alone_is_a_valid_balancer_with_haproxy_like_defaults()
    {
        var result = Balancer(Listeners);
        Assert.True(result.IsValid, result.ToString());
        var p = result.Config.Proxy;
        Assert.Equal(("etcd", "auto", "pass", true), (p.Discovery, p.DataPath, p.Ssl, p.ShutdownSessions));
        Assert.Null(p.Listener[0].DataPath);
        Assert.Equal(("http", 2, 3), (p.Check.Type, p.Check.Rise, p.Check.Fall));
        Assert.Equal(TimeSpan.FromSeconds(30), p.QueueTimeout);
        Assert.Null(p.MaximumReplicaLag);
        Assert.Equal(("replicas", "replica", "leastconn", true), (p.Listener[1].Name, p.Listener[1].Role, p.Listener[1].Balance, p.Listener[1].FallbackToPrimary));
    }

    [Fact]
    public void Every_key_of_a_static_setup_loads()
    {
        var result = Balancer(Static);
        Assert.True(result.IsValid, result.ToString());
        var p = result.Config.Proxy;
        Assert.Equal(("static", "splice", TimeSpan.FromSeconds(2.5), 1048576L), (p.Discovery, p.DataPath, p.QueueTimeout, p.MaximumReplicaLag));
        Assert.Equal(("pgsql-login", TimeSpan.FromMilliseconds(500), 1, "s3cret"), (p.Check.Type, p.Check.Inter, p.Check.Rise, p.Check.Password));
        Assert.Equal(new ProxyBackendSection { Name = "db1", Address = "10.0.0.1:5432", Weight = 3, Maxconn = 50 }, Assert.Single(p.Backend));
    }

    [Fact]
    public void The_check_password_is_masked_when_printed()
    {
        var text = ConfigPrinter.Render(ConfigLoader.LoadFromText([("lb.toml", Static)], ConfigRole.Balancer).Config!);
        Assert.DoesNotContain("s3cret", text, StringComparison.Ordinal);
        Assert.Contains("[proxy.check]", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("role = \"replica\"", "role = \"standby\"", "proxy.listener[1].role", "\"primary\", \"replica\"", 12)]
    [InlineData("bind = \"10.231.0.140:5001\"", "bind = \"10.231.0.140:5000\"", "proxy.listener[1].bind", "unique address", 11)]
    [InlineData("name = \"replicas\"", "name = \"primary\"", "proxy.listener[1].name", "unique listener name", 10)]
    [InlineData("balance = \"leastconn\"", "balance = \"random\"", "proxy.listener[1].balance", "\"roundrobin\"", 13)]
    [InlineData("discovery = \"etcd\"", "discovery = \"dns\"", "proxy.discovery", "\"etcd\", \"static\"", 2)]
    [InlineData("bind = \"10.231.0.140:5001\"", "bind = \"10.231.0.140\"", "proxy.listener[1].bind", "host:port", 11)]
    [InlineData("bind = \"10.231.0.140:5001\"", "bind = \"vip.example:5001\"", "proxy.listener[1].bind", "an IP address and port", 11)]
    public void Each_mistake_names_its_line_and_key(string find, string replace, string key, string expected, int line)
    {
        var error = ConfigText.Single(Balancer(Listeners.Replace(find, replace, StringComparison.Ordinal)));
        Assert.Equal(("lb.toml", key), (error.File, error.Key));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(line, error.Line);
    }

    [Fact]
    public void A_listener_may_name_its_own_data_path()
    {
        var result = Balancer(Static.Replace("role = \"primary\"", "role = \"primary\"\ndata_path = \"sockmap\"", StringComparison.Ordinal));
        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(("splice", "sockmap"), (result.Config.Proxy.DataPath, result.Config.Proxy.Listener[0].DataPath));
    }

    [Theory]
    [InlineData("data_path = \"splice\"", "data_path = \"ebpf\"", "proxy.data_path", 3)]
    [InlineData("role = \"primary\"", "role = \"primary\"\ndata_path = \"zero-copy\"", "proxy.listener[0].data_path", 17)]
    public void An_unknown_data_path_lists_the_four(string find, string replace, string key, int line)
    {
        var error = ConfigText.Single(Balancer(Static.Replace(find, replace, StringComparison.Ordinal)));
        Assert.Equal(("lb.toml", key, line), (error.File, error.Key, error.Line));
        Assert.Contains("\"auto\", \"sockmap\", \"splice\", \"copy\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Static_discovery_needs_backends_with_addresses()
    {
        var none = ConfigText.Single(Balancer(Listeners.Replace("\"etcd\"", "\"static\"", StringComparison.Ordinal)));
        Assert.Equal("proxy.backend", none.Key);
        Assert.Contains("at least one [[proxy.backend]]", none.Message, StringComparison.Ordinal);

        var noAddress = ConfigText.Single(Balancer(Static.Replace("address = \"10.0.0.1:5432\"\n", "", StringComparison.Ordinal)));
        Assert.Equal("proxy.backend[0].address", noAddress.Key);
    }

    [Fact]
    public void The_http_check_of_a_static_backend_needs_its_api()
    {
        var error = ConfigText.Single(Balancer(Static.Replace("type = \"pgsql-login\"", "type = \"http\"", StringComparison.Ordinal)));
        Assert.Equal("proxy.backend[0].api", error.Key);
        Assert.Contains("REST API", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Timeouts_are_seconds_with_a_clear_error()
    {
        var error = ConfigText.Single(Balancer(Static.Replace("queue_timeout = 2.5", "queue_timeout = \"30s\"", StringComparison.Ordinal)));
        Assert.Equal(("proxy.queue_timeout", 4), (error.Key, error.Line));
        Assert.Contains("number of seconds", error.Message, StringComparison.Ordinal);
    }
}
