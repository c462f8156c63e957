using System.Buffers.Binary;

namespace Appliance.Net;

/// <summary>
/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of the
/// data taken as big-endian 16-bit words, an odd last byte padded with zero. IPv4 headers and VRRP use it.
/// </summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> to a running one's complement sum (not yet folded or complemented).</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        var i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length)
            sum += (uint)data[i] << 8;
        // Fold now and then so a long buffer never overflows 32 bits.
        return (sum & 0xFFFF) + (sum >> 16);
    }

    /// <summary>Folds the carries into 16 bits and complements: the value to write into the checksum field.</summary>
    public static ushort Finish(uint sum)
    {
        while (sum >> 16 != 0)
            sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>The checksum of <paramref name="data"/>; over data that holds its own correct checksum it is 0.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Finish(Add(0, data));
}
