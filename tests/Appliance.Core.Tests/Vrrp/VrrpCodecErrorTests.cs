using System.Buffers.Binary;
using Appliance.Net;
using Appliance.Vrrp;

namespace Appliance.Core.Tests.Vrrp;

/// <summary>Every malformed case gets its own error, with the checksum made right so that only the fault under test shows.</summary>
public sealed class VrrpCodecErrorTests
{
    static readonly Ipv4Address Source = Ipv4Address.Parse("10.231.0.11");

    static byte[] V2() => Pcap.VrrpDatagrams(Pcap.VectorPath("vrrp2-advert.pcap"))[0][20..];
    static byte[] V3() => Pcap.VrrpDatagrams(Pcap.VectorPath("vrrp3-advert.pcap"))[0][20..];

    /// <summary>Recomputes the checksum of a (mutated) message as its version would.</summary>
    static byte[] Sealed(byte[] message)
    {
        message[6] = message[7] = 0;
        uint sum = 0;
        if (message[0] >> 4 == 3)
        {
            var pseudo = new byte[12];
            Source.Write(pseudo);
            VrrpCodec.MulticastGroup.Write(pseudo.AsSpan(4));
            pseudo[9] = 112;
            BinaryPrimitives.WriteUInt16BigEndian(pseudo.AsSpan(10), (ushort)message.Length);
            sum = InternetChecksum.Add(0, pseudo);
        }
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), InternetChecksum.Finish(InternetChecksum.Add(sum, message)));
        return message;
    }

    static VrrpError ErrorOf(byte[] message) => VrrpCodec.Parse(message, Source, VrrpCodec.MulticastGroup).Error;

    static byte[] With(byte[] message, Action<byte[]> change)
    {
        change(message);
        return Sealed(message);
    }

    [Fact]
    public void The_unchanged_messages_parse() => Assert.Equal(VrrpError.None, ErrorOf(Sealed(V2())) | ErrorOf(Sealed(V3())));

    [Fact]
    public void Too_short() => Assert.Equal(VrrpError.TooShort, ErrorOf(V2()[..7]));

    [Theory]
    [InlineData(0x11)]
    [InlineData(0x41)]
    [InlineData(0x01)]
    public void Bad_version(byte versionAndType) => Assert.Equal(VrrpError.BadVersion, ErrorOf(With(V2(), m => m[0] = versionAndType)));

    [Theory]
    [InlineData(0x20)]
    [InlineData(0x22)]
    [InlineData(0x3F)]
    public void Bad_type(byte versionAndType) => Assert.Equal(VrrpError.BadType, ErrorOf(With(V2(), m => m[0] = versionAndType)));

    [Fact]
    public void Bad_checksum_v2() => Assert.Equal(VrrpError.BadChecksum, ErrorOf(V2().Select((b, i) => i == 2 ? (byte)(b + 1) : b).ToArray()));

    [Fact]
    public void Bad_checksum_v3() => Assert.Equal(VrrpError.BadChecksum, ErrorOf(V3().Select((b, i) => i == 7 ? (byte)(b ^ 1) : b).ToArray()));

    [Fact]
    public void No_addresses() => Assert.Equal(VrrpError.NoAddresses, ErrorOf(With(V3(), m => m[3] = 0)));

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Address_count_larger_than_the_message(int version) =>
        Assert.Equal(VrrpError.AddressCountMismatch, ErrorOf(With(version == 2 ? V2() : V3(), m => m[3] = 2)));

    [Fact]
    public void Trailing_bytes_are_a_count_mismatch() => Assert.Equal(VrrpError.AddressCountMismatch, ErrorOf(Sealed([.. V3(), 0, 0, 0, 0, 0, 0])));

    [Fact]
    public void V2_without_authentication_data() => Assert.Equal(VrrpError.BadAuthLength, ErrorOf(Sealed(V2()[..^8])));

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(255)]
    public void Bad_auth_type(byte authType) => Assert.Equal(VrrpError.BadAuthType, ErrorOf(With(V2(), m => m[4] = authType)));

    [Fact]
    public void Zero_interval_v2() => Assert.Equal(VrrpError.BadInterval, ErrorOf(With(V2(), m => m[5] = 0)));

    [Fact]
    public void Zero_interval_v3_reserved_bits_ignored()
    {
        Assert.Equal(VrrpError.BadInterval, ErrorOf(With(V3(), m => { m[4] = 0xF0; m[5] = 0; })));
        // "rsvd ... ignored on reception": the same interval with reserved bits set still parses.
        var parsed = VrrpCodec.Parse(With(V3(), m => m[4] = 0xF0), Source, VrrpCodec.MulticastGroup);
        Assert.Equal(10, parsed.Advertisement!.IntervalCentiseconds);
    }

    [Fact]
    public void Ip_level_errors()
    {
        var datagram = Pcap.VrrpDatagrams(Pcap.VectorPath("vrrp2-advert.pcap"))[0];
        Assert.Equal(VrrpError.BadIpHeader, VrrpPacket.Parse(datagram.AsSpan(0, 19)).Error);
        Assert.Equal(VrrpError.BadIpHeader, VrrpPacket.Parse(Ip(datagram, h => h[0] = 0x65)).Error);
        Assert.Equal(VrrpError.BadIpHeader, VrrpPacket.Parse(datagram.Select((b, i) => i == 8 ? (byte)254 : b).ToArray()).Error); // TTL changed, checksum not
        Assert.Equal(VrrpError.BadTtl, VrrpPacket.Parse(Ip(datagram, h => h[8] = 254)).Error);
        Assert.Equal(VrrpError.NotVrrp, VrrpPacket.Parse(Ip(datagram, h => h[9] = 17)).Error);
        Assert.Equal(VrrpError.IpFragment, VrrpPacket.Parse(Ip(datagram, h => h[6] = 0x20)).Error);
        Assert.Equal(VrrpError.BadIpHeader, VrrpPacket.Parse(Ip(datagram, h => h[3] = 200)).Error);
    }

    /// <summary>The datagram with its IP header changed and its header checksum made right.</summary>
    static byte[] Ip(byte[] datagram, Action<byte[]> change)
    {
        var copy = datagram.ToArray();
        change(copy);
        copy[10] = copy[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(10), InternetChecksum.Compute(copy.AsSpan(0, 20)));
        return copy;
    }
}
