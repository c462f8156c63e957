using Appliance.Vrrp;

namespace Appliance.Core.Tests.Vrrp;

/// <summary>
/// A fuzz target run as a unit test: random mutations of the captured datagrams (bit flips, byte
/// writes, truncation, extension) never throw; each gives an advertisement or the codec's own error,
/// and whatever parses writes back to bytes that parse to the same fields.
/// </summary>
public sealed class VrrpCodecFuzzTests
{
    [Fact]
    public void Mutated_vectors_give_a_result_or_an_error_never_an_exception()
    {
        var seeds = Pcap.VectorFiles().SelectMany(Pcap.VrrpDatagrams).ToList();
        Assert.NotEmpty(seeds);
        var random = new Random(5798);
        var outcomes = new Dictionary<VrrpError, int>();
        for (var round = 0; round < 50_000; round++)
        {
            var datagram = Mutate(seeds[random.Next(seeds.Count)], random);
            var result = VrrpPacket.Parse(datagram);
            outcomes[result.Error] = outcomes.GetValueOrDefault(result.Error) + 1;
            if (!result.IsValid)
            {
                Assert.NotEqual(VrrpError.None, result.Error);
                Assert.False(string.IsNullOrEmpty(result.Message));
                continue;
            }
            var buffer = new byte[VrrpPacket.GetLength(result.Advertisement)];
            VrrpPacket.Write(result.Header!, result.Advertisement, buffer);
            var again = VrrpPacket.Parse(buffer);
            Assert.True(again.IsValid, again.ToString());
            Assert.Equal(result.Advertisement.Priority, again.Advertisement.Priority);
            Assert.Equal(result.Advertisement.Addresses, again.Advertisement.Addresses);
        }
        // The mutations reach deep: more than a handful of distinct outcomes.
        Assert.True(outcomes.Count >= 6, string.Join(", ", outcomes.Select(o => $"{o.Key}={o.Value}")));
    }

    static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = seed.ToList();
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            switch (random.Next(5))
            {
                case 0 when bytes.Count > 0:
                    var i = random.Next(bytes.Count);
                    bytes[i] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[random.Next(bytes.Count)] = (byte)random.Next(256);
                    break;
                case 2 when bytes.Count > 0:
                    bytes = [.. bytes.Take(random.Next(bytes.Count + 1))];
                    break;
                case 3:
                    bytes.AddRange(Enumerable.Range(0, random.Next(1, 9)).Select(_ => (byte)random.Next(256)));
                    break;
                default:
                    // Touch the fields the parser branches on most: VRRP version/type, count, auth type, interval.
                    int[] hot = [20, 23, 24, 25, 3, 8, 9];
                    var at = hot[random.Next(hot.Length)];
                    if (at < bytes.Count)
                        bytes[at] = (byte)random.Next(256);
                    break;
            }
        }
        return [.. bytes];
    }
}
