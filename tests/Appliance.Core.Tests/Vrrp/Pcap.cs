using System.Buffers.Binary;

namespace Appliance.Core.Tests.Vrrp;

/// <summary>Reads classic pcap files (LINKTYPE_ETHERNET) and picks out the IPv4 datagrams of VRRP frames.</summary>
internal static class Pcap
{
    public static string VectorPath(string name) => Path.Combine(AppContext.BaseDirectory, "Vrrp", "Vectors", name);

    public static IEnumerable<string> VectorFiles() =>
        Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Vrrp", "Vectors"), "*.pcap").Order(StringComparer.Ordinal);

    /// <summary>Every frame of the file, as captured.</summary>
    public static List<byte[]> Frames(string path)
    {
        var data = File.ReadAllBytes(path);
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(data);
        var little = magic switch
        {
            0xA1B2C3D4 or 0xA1B23C4D => true,
            0xD4C3B2A1 or 0x4D3CB2A1 => false,
            _ => throw new InvalidDataException($"{path}: not a classic pcap file"),
        };
        uint U32(int at) => little ? BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at)) : BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
        Assert.Equal(1u, U32(20)); // LINKTYPE_ETHERNET
        var frames = new List<byte[]>();
        for (var at = 24; at + 16 <= data.Length;)
        {
            var captured = (int)U32(at + 8);
            frames.Add(data.AsSpan(at + 16, captured).ToArray());
            at += 16 + captured;
        }
        return frames;
    }

    /// <summary>The IPv4 datagrams (Ethernet header removed) whose protocol is 112.</summary>
    public static List<byte[]> VrrpDatagrams(string path) =>
        [.. Frames(path)
            .Where(f => f.Length > 14 + 20 && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x0800 && f[14 + 9] == 112)
            .Select(f => f[14..])];
}
