using Appliance.Net;
using Appliance.Vrrp;

namespace Appliance.Core.Tests.Vrrp;

public sealed class VirtualAddressTests
{
    [Theory]
    [InlineData("eth0", 51, "eth0:vrrp51")]
    [InlineData("veth-lb1", 255, "veth-lb1:v255")]        // ":vrrp255" would make 16
    [InlineData("aplspk1234567", 7, "aplspk1234567:7")]    // 15 exactly
    [InlineData("aplspk12345678", 7, "aplspk12345678")]    // no room for any suffix
    [InlineData("enp0s31f6", 51, "enp0s31f6:v51")]
    public void Label_starts_with_the_interface_and_fits_ifnamsiz(string ifname, int vrid, string expected)
    {
        var label = VirtualAddress.Label(ifname, (byte)vrid);
        Assert.True(label.Length <= 15, label);
        Assert.StartsWith(ifname, label, StringComparison.Ordinal);
        Assert.Equal(expected, label);
    }

    [Fact]
    public void Parses_address_and_prefix()
    {
        var v = VirtualAddress.Parse("10.231.0.140/24");
        Assert.Equal(Ipv4Address.Parse("10.231.0.140"), v.Address);
        Assert.Equal(24, v.PrefixLength);
        Assert.Equal(32, VirtualAddress.Parse("10.0.0.1").PrefixLength);
        Assert.Equal("10.231.0.140/24", v.ToString());
    }
}
