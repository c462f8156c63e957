using Appliance.Configuration;

namespace Appliance.Core.Tests.Configuration;

/// <summary>The sections fencing and the REST API's security read: defaults, choices and the rules that tie them to other keys.</summary>
public class ConfigFencingTests
{
    const string Minimal = "[node]\nname = \"db1\"\n[cluster]\nscope = \"c\"\n[postgresql]\ndata_dir = \"/d\"\n";

    static ConfigResult Load(string extra) => ConfigLoader.LoadFromText([("a.toml", Minimal + extra)]);

    [Fact]
    public void Defaults_are_automatic_watchdog_rewind_on_and_no_client_certificates()
    {
        var c = Load("").Config!;
        Assert.Equal("automatic", c.Watchdog.Mode);
        Assert.Equal("/dev/watchdog", c.Watchdog.Device);
        Assert.Equal(5, c.Watchdog.SafetyMargin);
        Assert.True(c.Postgresql.UsePgRewind);
        Assert.Equal("none", c.Restapi.VerifyClient);
        Assert.Equal(30, c.Callbacks.Timeout);
        Assert.Null(c.Callbacks.OnRoleChange);
    }

    [Fact]
    public void A_watchdog_mode_outside_the_choices_is_refused_with_the_choices()
    {
        var r = Load("[watchdog]\nmode = \"sometimes\"\n");
        var e = Assert.Single(r.Errors);
        Assert.Equal("watchdog.mode", e.Key);
        Assert.Contains("\"off\", \"automatic\", \"required\"", e.Message, StringComparison.Ordinal);
        Assert.Equal(8, e.Line);
    }

    [Fact]
    public void A_safety_margin_that_leaves_no_watchdog_timeout_is_refused()
    {
        var e = Assert.Single(Load("[agent]\nttl = 10\nloop_wait = 2\nretry_timeout = 4\n[watchdog]\nsafety_margin = 10\n").Errors);
        Assert.Equal("watchdog.safety_margin", e.Key);
        Assert.Contains("less than agent.ttl", e.Message, StringComparison.Ordinal);
        Assert.True(Load("[watchdog]\nmode = \"off\"\nsafety_margin = 30\n").IsValid);
    }

    [Fact]
    public void A_rest_api_certificate_without_its_key_is_refused()
    {
        var e = Assert.Single(Load("[restapi]\ncert_file = \"/etc/appliance/api.pem\"\n").Errors);
        Assert.Equal("restapi.cert_file", e.Key);
        Assert.Contains("restapi.key_file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Callback_and_rewind_keys_load()
    {
        var c = ConfigLoader.LoadFromText([("a.toml", Minimal + "[callbacks]\non_role_change = \"/usr/local/bin/vip\"\ntimeout = 5\n"),
            ("b.toml", "[postgresql]\nuse_pg_rewind = false\n")]).Config;
        Assert.NotNull(c);
        Assert.Equal("/usr/local/bin/vip", c.Callbacks.OnRoleChange);
        Assert.Equal(5, c.Callbacks.Timeout);
        Assert.False(c.Postgresql.UsePgRewind);
    }
}
