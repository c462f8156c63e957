using System.Net;
using System.Net.Sockets;
using Appliance.Lab.Netns;
using Appliance.Net;
using Appliance.TestKit;
using Appliance.Vrrp;

namespace Appliance.Balancer.Tests;

/// <summary>
/// RFC 5798 7.1: "MUST verify that the IP TTL is 255". An advert that crossed a router (TTL 254) is
/// counted as a BadTtl drop and changes nothing, even with a priority that would win the election.
/// </summary>
[Collection("netns")]
public sealed class BadTtlTests
{
    [Fact]
    public async Task Ttl_254_adverts_are_counted_and_ignored()
    {
        await using var lab = await VipLab.CreateAsync();
        var a = lab.StartOurs("lb1", VipLab.Ours(3, 100));
        var b = lab.StartOurs("lb2", VipLab.Ours(3, 90));
        await VipLab.WithLogsAsync(() => $"--- lb1 ---\n{a.LogTail()}\n--- lb2 ---\n{b.LogTail()}", async () =>
        {
            await Wait.UntilAsync("lb1 is MASTER and lb2 BACKUP", () => a.State == "MASTER" && b.State == "BACKUP", VipLab.Deadline);
            await lab.UntilClientReachesAsync("lb1");
            var (transitionsA, transitionsB) = (a.Transitions().Count, b.Transitions().Count);
            var (dropsA, dropsB) = (await a.DropsAsync("BadTtl"), await b.DropsAsync("BadTtl"));

            // From the client, priority 254 with a valid checksum: only the TTL is wrong.
            const int sent = 5;
            // IPPROTO_RAW: send-only and IP_HDRINCL implied (.NET refuses an unknown protocol number like 112).
            using (var raw = NetnsSocket.Create(lab.Topology.NamespaceOf("client"), SocketType.Raw, ProtocolType.Raw))
            {
                raw.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, SeedTopology.Client.Address.GetAddressBytes());
                var group = IPAddress.Parse("224.0.0.18");
                var packet = new byte[128];
                var length = VrrpPacket.Write(
                    new Ipv4Header { TimeToLive = 254, Protocol = VrrpCodec.IpProtocol, Source = V4(SeedTopology.Client.Address), Destination = V4(group) },
                    new VrrpAdvertisement { Version = VrrpVersion.V3, VirtualRouterId = 51, Priority = 254, IntervalCentiseconds = 10, Addresses = [V4(SeedTopology.Vip)] },
                    packet);
                for (var i = 0; i < sent; i++)
                {
                    await raw.SendToAsync(packet.AsMemory(0, length), SocketFlags.None, new IPEndPoint(group, 0));
                    await Task.Delay(20);
                }
            }

            await Wait.UntilAsync($"both balancers count {sent} more BadTtl drops", async () =>
                await a.DropsAsync("BadTtl") >= dropsA + sent && await b.DropsAsync("BadTtl") >= dropsB + sent, VipLab.Deadline);
            // The drops are counted before the state machine sees a packet, so no transition can follow them.
            Assert.Equal(transitionsA, a.Transitions().Count);
            Assert.Equal(transitionsB, b.Transitions().Count);
            Assert.Equal("MASTER", a.State);
            Assert.True(await lab.HoldsVipAsync("lb1"), "lb1 gave up the VIP");
            Assert.Equal("lb1", await lab.WhoAnswersAsync());
        });
    }

    static Ipv4Address V4(IPAddress address) => Ipv4Address.Read(address.GetAddressBytes());
}
