using Appliance.Configuration;

namespace Appliance.Core.Tests.Configuration;

/// <summary><c>[[vrrp]]</c> instances: good files load, each mistake names its file, line, key and what was expected.</summary>
public sealed class ConfigVrrpTests
{
    const string Instance = """
        [[vrrp]]
        name = "VI_1"
        interface = "eth0"
        virtual_router_id = 51
        virtual_ipaddress = ["10.231.0.140/24"]
        """;

    const string Full = """
        [[vrrp]]
        name = "VI_1"
        interface = "eth0"
        virtual_router_id = 51
        priority = 90
        version = 2
        advert_int = 1
        auth_pass = "spk1234"
        virtual_ipaddress = ["10.231.0.140/24", "10.231.0.141/32"]
        source_address = "10.231.0.12"
        unicast_peers = ["10.231.0.11"]
        preempt = false
        preempt_delay = 2.5
        garp_master_delay = 3
        garp_master_repeat = 2
        garp_master_refresh = 60
        notify_master = "/usr/local/bin/vip master"
        notify = "/usr/local/bin/vip-all"
        notify_timeout = 5

        [[vrrp.track_script]]
        name = "chk_proxy"
        script = "/check/proxy.sh"
        interval = 3
        timeout = 2
        rise = 2
        fall = 3
        weight = -30

        [[vrrp.track_interface]]
        name = "eth1"

        [[vrrp]]
        name = "VI_2"
        interface = "eth0"
        virtual_router_id = 52
        version = 3
        advert_int = 0.1
        virtual_ipaddress = ["10.231.0.150/24"]

        [[vrrp.track_script]]
        name = "second"
        script = "/bin/true"
        """;

    static ConfigResult Balancer(string text) => ConfigLoader.LoadFromText([("lb.toml", text)], ConfigRole.Balancer);

    [Fact]
    public void A_full_file_loads_every_key()
    {
        var result = Balancer(Full);
        Assert.True(result.IsValid, result.ToString());
        var (a, b) = (result.Config.Vrrp[0], result.Config.Vrrp[1]);
        Assert.Equal(("VI_1", "eth0", 51, 90, 2), (a.Name, a.Interface, a.VirtualRouterId, a.Priority, a.Version));
        Assert.Equal("spk1234", a.AuthPass);
        Assert.Equal(["10.231.0.140/24", "10.231.0.141/32"], a.VirtualIpaddress);
        Assert.Equal(["10.231.0.11"], a.UnicastPeers);
        Assert.False(a.Preempt);
        Assert.Equal(TimeSpan.FromSeconds(2.5), a.PreemptDelay);
        Assert.Equal((3, 2, 60, 5), (a.GarpMasterDelay, a.GarpMasterRepeat, a.GarpMasterRefresh, a.NotifyTimeout));
        Assert.Equal(new TrackScriptSection { Name = "chk_proxy", Script = "/check/proxy.sh", Interval = 3, Timeout = 2, Rise = 2, Fall = 3, Weight = -30 }, Assert.Single(a.TrackScript));
        Assert.Equal("eth1", Assert.Single(a.TrackInterface).Name);
        Assert.Equal(TimeSpan.FromMilliseconds(100), b.AdvertInt);
        Assert.Equal(3, b.Version);
        Assert.Equal("second", Assert.Single(b.TrackScript).Name);
    }

    [Fact]
    public void Defaults_are_keepalived_s()
    {
        var vrrp = Assert.Single(Balancer(Instance).Config!.Vrrp);
        Assert.Equal((100, 2, TimeSpan.FromSeconds(1), true), (vrrp.Priority, vrrp.Version, vrrp.AdvertInt, vrrp.Preempt));
        Assert.Equal((5, 5, 0), (vrrp.GarpMasterDelay, vrrp.GarpMasterRepeat, vrrp.GarpMasterRefresh));
        Assert.Null(vrrp.AuthPass);
    }

    [Fact]
    public void The_balancer_needs_no_database_keys_but_one_instance()
    {
        Assert.True(Balancer(Instance).IsValid);
        var error = ConfigText.Single(Balancer("[node]\nname = \"lb1\"\n"));
        Assert.Equal("vrrp", error.Key);
        Assert.Contains("at least one [[vrrp]]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_agent_validates_vrrp_too_and_needs_its_own_keys()
    {
        Assert.True(ConfigText.Load(("a.toml", ConfigText.Minimal + "\n" + Instance)).IsValid);
        var error = ConfigText.Single(ConfigText.Load(("a.toml", ConfigText.Minimal + "\n" + Instance.Replace("51", "0", StringComparison.Ordinal))));
        Assert.Equal("vrrp[0].virtual_router_id", error.Key);
    }

    [Theory]
    [InlineData("virtual_router_id = 51", "virtual_router_id = 256", "vrrp[0].virtual_router_id", "from 1 to 255", 4)]
    [InlineData("interface = \"eth0\"\n", "priority = 0\ninterface = \"eth0\"\n", "vrrp[0].priority", "from 1 to 255", 3)]
    [InlineData("interface = \"eth0\"", "interface = \"a-very-long-interface\"", "vrrp[0].interface", "1 to 15", 3)]
    [InlineData("[\"10.231.0.140/24\"]", "[\"10.231.0.140\"]", "vrrp[0].virtual_ipaddress", "prefix length", 5)]
    [InlineData("[\"10.231.0.140/24\"]", "[\"10.231.0.140/33\"]", "vrrp[0].virtual_ipaddress", "prefix length", 5)]
    [InlineData("[\"10.231.0.140/24\"]", "[]", "vrrp[0].virtual_ipaddress", "at least 1", 5)]
    [InlineData("name = \"VI_1\"", "name = \"VI 1\"", "vrrp[0].name", "letters, digits", 2)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\nversion = 4", "vrrp[0].version", "from 2 to 3", 4)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\nadvert_int = 1.5", "vrrp[0].advert_int", "whole seconds", 4)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\nadvert_int = 0.005", "vrrp[0].advert_int", "precision of 0.01", 4)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\nadvert_int = \"1s\"", "vrrp[0].advert_int", "number of seconds", 4)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\nversion = 3\nadvert_int = 41", "vrrp[0].advert_int", "40.95", 5)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\nauth_pass = \"123456789\"", "vrrp[0].auth_pass", "at most 8 bytes", 4)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\nversion = 3\nauth_pass = \"x\"", "vrrp[0].auth_pass", "no authentication", 5)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\nunicast_peers = [\"peer1\"]", "vrrp[0].unicast_peers", "IPv4 address", 4)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\npreemt = true", "vrrp[0].preemt", "did you mean 'preempt'", 4)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\ntrack_script = [{ name = \"c\", script = \"/x\", weight = -300 }]", "vrrp[0].track_script[0].weight", "-253 to 253", 4)]
    [InlineData("interface = \"eth0\"", "interface = \"eth0\"\ntrack_script = [{ name = \"c\" }]", "vrrp[0].track_script[0].script", "required", 4)]
    public void Each_mistake_names_its_line_and_key(string find, string replace, string key, string expected, int line)
    {
        var error = ConfigText.Single(Balancer(Instance.Replace(find, replace, StringComparison.Ordinal)));
        Assert.Equal(("lb.toml", key), (error.File, error.Key));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(line, error.Line);
    }

    [Fact]
    public void A_missing_required_key_points_at_its_table()
    {
        var error = ConfigText.Single(Balancer(Instance.Replace("virtual_router_id = 51\n", "", StringComparison.Ordinal)));
        Assert.Equal(("vrrp[0].virtual_router_id", 1), (error.Key, error.Line));
    }

    [Fact]
    public void Names_and_vrids_per_interface_are_unique()
    {
        var result = Balancer(Instance + "\n" + Instance);
        Assert.Equal(["vrrp[1].name", "vrrp[1].virtual_router_id"], result.Errors.Select(e => e.Key));
        Assert.True(Balancer(Instance + "\n" + Instance.Replace("VI_1", "VI_2", StringComparison.Ordinal).Replace("eth0", "eth1", StringComparison.Ordinal)).IsValid);
    }

    [Fact]
    public void A_drop_in_replaces_the_instances_whole()
    {
        var result = ConfigLoader.LoadFromText([("lb.toml", Instance), ("conf.d/10.toml", Instance.Replace("51", "61", StringComparison.Ordinal))], ConfigRole.Balancer);
        Assert.Equal(61, Assert.Single(result.Config!.Vrrp).VirtualRouterId);
    }

    [Fact]
    public void The_printed_configuration_masks_the_password_and_loads_back()
    {
        var printed = ConfigPrinter.Render(Balancer(Full).Config!);
        Assert.DoesNotContain("spk1234", printed, StringComparison.Ordinal);
        Assert.Contains("auth_pass = \"********\"", printed, StringComparison.Ordinal);
        Assert.Contains("[[vrrp.track_script]]", printed, StringComparison.Ordinal);
        Assert.Contains("advert_int = 0.1", printed, StringComparison.Ordinal);
        var again = Balancer(printed);
        Assert.True(again.IsValid, again.ToString());
        Assert.Equal(2, again.Config.Vrrp.Count);
        Assert.Equal(TimeSpan.FromSeconds(2.5), again.Config.Vrrp[0].PreemptDelay);
        Assert.Equal(-30, again.Config.Vrrp[0].TrackScript[0].Weight);
        Assert.Equal("second", again.Config.Vrrp[1].TrackScript[0].Name);
    }
}
