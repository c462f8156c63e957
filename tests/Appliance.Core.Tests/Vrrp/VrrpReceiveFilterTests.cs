using Appliance.Net;
using Appliance.Vrrp;

namespace Appliance.Core.Tests.Vrrp;

/// <summary>What the speaker drops before the state machine, by reason (the drops-by-reason metric).</summary>
public sealed class VrrpReceiveFilterTests
{
    static readonly byte[] Advert = Pcap.VrrpDatagrams(Pcap.VectorPath("vrrp2-advert.pcap"))[0]; // VRID 51 from 10.231.0.11
    static readonly Ipv4Address Sender = Ipv4Address.Parse("10.231.0.11");
    static readonly Ipv4Address Us = Ipv4Address.Parse("10.231.0.12");

    [Fact]
    public void Accepts_an_advert_for_our_vrid()
    {
        var r = new VrrpReceiveFilter(51, Us, []).Classify(Advert);
        Assert.Equal("", r.Reason);
        Assert.Equal(Sender, r.Event!.Source);
        Assert.Equal(100, r.Event.Advertisement.Priority);
    }

    [Fact]
    public void Another_vrid_is_dropped() =>
        Assert.Equal("VridMismatch", new VrrpReceiveFilter(52, Us, []).Classify(Advert).Reason);

    [Fact]
    public void Our_own_advert_is_dropped() =>
        Assert.Equal("OwnAdvert", new VrrpReceiveFilter(51, Sender, []).Classify(Advert).Reason);

    [Fact]
    public void Unicast_mode_drops_strangers()
    {
        Assert.Equal("UnknownPeer", new VrrpReceiveFilter(51, Us, [Ipv4Address.Parse("10.231.0.13")]).Classify(Advert).Reason);
        Assert.Equal("", new VrrpReceiveFilter(51, Us, [Sender]).Classify(Advert).Reason);
    }

    [Fact]
    public void Ttl_254_is_dropped_as_BadTtl()
    {
        var copy = (byte[])Advert.Clone();
        copy[8] = 254;
        // Fix the IPv4 header checksum so that only the TTL is wrong.
        copy[10] = copy[11] = 0;
        var sum = InternetChecksum.Compute(copy.AsSpan(0, 20));
        copy[10] = (byte)(sum >> 8);
        copy[11] = (byte)sum;
        Assert.Equal("BadTtl", new VrrpReceiveFilter(51, Us, []).Classify(copy).Reason);
    }

    [Fact]
    public void Malformed_is_dropped_with_the_codec_error()
    {
        var copy = (byte[])Advert.Clone();
        copy[^1] ^= 0xFF; // auth data changes: the VRRP checksum no longer matches
        Assert.Equal("BadChecksum", new VrrpReceiveFilter(51, Us, []).Classify(copy).Reason);
        Assert.Equal("BadIpHeader", new VrrpReceiveFilter(51, Us, []).Classify(copy.AsSpan(0, 10)).Reason);
    }
}
