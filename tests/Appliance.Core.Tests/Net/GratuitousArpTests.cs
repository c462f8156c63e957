using Appliance.Core.Tests.Vrrp;
using Appliance.Net;

namespace Appliance.Core.Tests.Net;

/// <summary>The gratuitous ARP frame against the ones keepalived sent (vectors/garp-takeover.pcap).</summary>
public sealed class GratuitousArpTests
{
    [Theory]
    [InlineData("garp-takeover.pcap")]
    [InlineData("vrrp3-garp-takeover.pcap")]
    public void Frame_is_byte_identical_to_keepalived(string file)
    {
        var arps = Pcap.Frames(Pcap.VectorPath(file)).Where(f => f[12] == 0x08 && f[13] == 0x06).ToList();
        Assert.NotEmpty(arps);
        foreach (var captured in arps)
        {
            var mac = MacAddress.Read(captured.AsSpan(6));
            var vip = Ipv4Address.Read(captured.AsSpan(28));
            var frame = new byte[GratuitousArp.FrameLength];
            Assert.Equal(GratuitousArp.FrameLength, GratuitousArp.Write(mac, vip, frame));
            Assert.Equal(Convert.ToHexString(captured), Convert.ToHexString(frame));
        }
    }

    [Fact]
    public void Frame_announces_the_vip_at_our_mac()
    {
        Assert.True(MacAddress.TryParse("02:00:00:00:00:0b", out var mac));
        var frame = new byte[GratuitousArp.FrameLength];
        GratuitousArp.Write(mac, Ipv4Address.Parse("10.231.0.140"), frame);
        Assert.Equal("FFFFFFFFFFFF02000000000B08060001080006040001" + "02000000000B0AE7008C" + "FFFFFFFFFFFF0AE7008C", Convert.ToHexString(frame));
    }

    [Theory]
    [InlineData("02:00:00:00:00:0b", true)]
    [InlineData("02:00:00:00:00", false)]
    [InlineData("02:00:00:00:00:0g", false)]
    [InlineData("", false)]
    public void Mac_parses_sysfs_text(string text, bool ok)
    {
        Assert.Equal(ok, MacAddress.TryParse(text, out var mac));
        if (ok) Assert.Equal(text, mac.ToString());
    }
}
