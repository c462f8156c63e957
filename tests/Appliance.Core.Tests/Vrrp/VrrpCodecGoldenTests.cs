using Appliance.Net;
using Appliance.Vrrp;

namespace Appliance.Core.Tests.Vrrp;

/// <summary>The codec against packets keepalived put on the wire: every one parses and writes back byte for byte.</summary>
public sealed class VrrpCodecGoldenTests
{
    public static TheoryData<string> Files() => [.. Pcap.VectorFiles().Select(f => Path.GetFileName(f)).Where(f => Pcap.VrrpDatagrams(Pcap.VectorPath(f)).Count > 0)];

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_vrrp_datagram_parses_and_writes_back_identically(string file)
    {
        var datagrams = Pcap.VrrpDatagrams(Pcap.VectorPath(file));
        Assert.NotEmpty(datagrams);
        foreach (var datagram in datagrams)
        {
            var parsed = VrrpPacket.Parse(datagram);
            Assert.True(parsed.IsValid, $"{file}: {parsed}");
            var buffer = new byte[VrrpPacket.GetLength(parsed.Advertisement)];
            var written = VrrpPacket.Write(parsed.Header!, parsed.Advertisement, buffer);
            Assert.Equal(datagram.Length, written);
            Assert.Equal(Convert.ToHexString(datagram), Convert.ToHexString(buffer));
        }
    }

    [Fact]
    public void Keepalived_v2_advert_with_pass_authentication()
    {
        var parsed = VrrpPacket.Parse(Pcap.VrrpDatagrams(Pcap.VectorPath("vrrp2-advert.pcap"))[0]);
        Assert.True(parsed.IsValid, parsed.ToString());
        var ad = parsed.Advertisement;
        Assert.Equal(VrrpVersion.V2, ad.Version);
        Assert.Equal(51, ad.VirtualRouterId);
        Assert.Equal(100, ad.Priority);
        Assert.Equal(TimeSpan.FromSeconds(1), ad.Interval);
        Assert.Equal([Ipv4Address.Parse("10.231.0.140")], ad.Addresses);
        Assert.Equal(VrrpAuthType.SimpleText, ad.AuthType);
        Assert.Equal(VrrpAuthData.FromPassword("spk1234"), ad.AuthData);
        var ip = parsed.Header!;
        Assert.Equal(Ipv4Address.Parse("10.231.0.11"), ip.Source);
        Assert.Equal(VrrpCodec.MulticastGroup, ip.Destination);
        Assert.Equal(0xC0, ip.TypeOfService);
        Assert.False(ip.DontFragment);
    }

    [Fact]
    public void Keepalived_v3_advert_has_centiseconds_and_no_auth()
    {
        var ad = VrrpPacket.Parse(Pcap.VrrpDatagrams(Pcap.VectorPath("vrrp3-advert.pcap"))[0]).Advertisement!;
        Assert.Equal(VrrpVersion.V3, ad.Version);
        Assert.Equal(52, ad.VirtualRouterId);
        Assert.Equal(10, ad.IntervalCentiseconds);
        Assert.Equal(VrrpAuthType.None, ad.AuthType);
    }

    [Theory]
    [InlineData("vrrp2-prio0.pcap")]
    [InlineData("vrrp3-prio0.pcap")]
    public void A_stopping_master_sends_priority_0(string file) =>
        Assert.Contains(Pcap.VrrpDatagrams(Pcap.VectorPath(file)), d => VrrpPacket.Parse(d).Advertisement?.Priority == 0);

    [Fact]
    public void Raw_socket_v2_advert_without_auth()
    {
        var parsed = VrrpPacket.Parse(Pcap.VrrpDatagrams(Pcap.VectorPath("vrrp2-rawsocket-sent.pcap"))[0]);
        Assert.Equal(99, parsed.Advertisement!.VirtualRouterId);
        Assert.Equal(VrrpAuthType.None, parsed.Advertisement.AuthType);
        Assert.True(parsed.Header!.DontFragment);
    }

    [Fact]
    public void A_v3_message_checksum_covers_the_pseudo_header()
    {
        var datagram = Pcap.VrrpDatagrams(Pcap.VectorPath("vrrp3-advert.pcap"))[0];
        var source = Ipv4Address.Parse("10.231.0.11");
        Assert.True(VrrpCodec.Parse(datagram.AsSpan(20), source, VrrpCodec.MulticastGroup).IsValid);
        // The same bytes from another sender: the pseudo-header differs, so must the checksum.
        Assert.Equal(VrrpError.BadChecksum, VrrpCodec.Parse(datagram.AsSpan(20), Ipv4Address.Parse("10.231.0.12"), VrrpCodec.MulticastGroup).Error);
    }

    [Fact]
    public void Written_adverts_match_keepalived_for_the_same_fields()
    {
        var v3 = new VrrpAdvertisement
        {
            Version = VrrpVersion.V3, VirtualRouterId = 52, Priority = 100, IntervalCentiseconds = 10,
            Addresses = [Ipv4Address.Parse("10.231.0.140")],
        };
        var captured = Pcap.VrrpDatagrams(Pcap.VectorPath("vrrp3-advert.pcap"))[0];
        var buffer = new byte[VrrpCodec.GetLength(v3)];
        VrrpCodec.Write(v3, Ipv4Address.Parse("10.231.0.11"), VrrpCodec.MulticastGroup, buffer);
        Assert.Equal(Convert.ToHexString(captured.AsSpan(20)), Convert.ToHexString(buffer));

        var v2 = new VrrpAdvertisement
        {
            Version = VrrpVersion.V2, VirtualRouterId = 51, Priority = 100, IntervalCentiseconds = 100,
            Addresses = [Ipv4Address.Parse("10.231.0.140")], AuthType = VrrpAuthType.SimpleText, AuthData = VrrpAuthData.FromPassword("spk1234"),
        };
        captured = Pcap.VrrpDatagrams(Pcap.VectorPath("vrrp2-advert.pcap"))[0];
        buffer = new byte[VrrpCodec.GetLength(v2)];
        VrrpCodec.Write(v2, default, default, buffer);
        Assert.Equal(Convert.ToHexString(captured.AsSpan(20)), Convert.ToHexString(buffer));
    }
}
