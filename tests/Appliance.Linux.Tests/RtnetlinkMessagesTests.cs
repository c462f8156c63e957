using Appliance.Linux.Net;
using Appliance.Net;
using Appliance.Vrrp;

namespace Appliance.Linux.Tests;

/// <summary>
/// The rtnetlink requests against bytes written out by hand from rtnetlink(7), netlink(7) and
/// &lt;linux/if_addr.h&gt; (host order: little-endian), the same layout <c>ip addr add</c> sends.
/// </summary>
public sealed class RtnetlinkMessagesTests
{
    static readonly VirtualAddress Vip = VirtualAddress.Parse("10.231.0.140/24");

    [Fact]
    public void Add_address_request()
    {
        var buffer = new byte[RtnetlinkMessages.MaxRequestLength];
        var n = RtnetlinkMessages.WriteAddressRequest(buffer, add: true, seq: 1, ifindex: 7, Vip, "eth0:vrrp51");
        var expected =
            "38000000" + "1400" + "0506" + "01000000" + "00000000" +  // nlmsghdr: len 56, RTM_NEWADDR 20, REQUEST|ACK|EXCL|CREATE, seq 1, pid 0
            "02" + "18" + "00" + "00" + "07000000" +                   // ifaddrmsg: AF_INET, /24, flags 0, RT_SCOPE_UNIVERSE, ifindex 7
            "0800" + "0200" + "0AE7008C" +                            // IFA_LOCAL 10.231.0.140
            "0800" + "0100" + "0AE7008C" +                            // IFA_ADDRESS 10.231.0.140
            "1000" + "0300" + Convert.ToHexString("eth0:vrrp51\0"u8); // IFA_LABEL, 4 + 12 bytes, already aligned
        Assert.Equal(expected, Convert.ToHexString(buffer, 0, n));
    }

    [Fact]
    public void Delete_address_request_has_no_create_flags_and_no_label()
    {
        var buffer = new byte[RtnetlinkMessages.MaxRequestLength];
        var n = RtnetlinkMessages.WriteAddressRequest(buffer, add: false, seq: 9, ifindex: 3, Vip, null);
        Assert.Equal(
            "28000000" + "1500" + "0500" + "09000000" + "00000000" +  // len 40, RTM_DELADDR 21, REQUEST|ACK
            "02180000" + "03000000" +
            "08000200" + "0AE7008C" + "08000100" + "0AE7008C",
            Convert.ToHexString(buffer, 0, n));
    }

    [Fact]
    public void Label_is_padded_to_four_bytes()
    {
        var buffer = new byte[RtnetlinkMessages.MaxRequestLength];
        var n = RtnetlinkMessages.WriteAddressRequest(buffer, add: true, seq: 1, ifindex: 1, Vip, "lo:v1");
        // IFA_LABEL: rta_len 4 + 6 = 10, padded to 12 with zeros; the message length counts the padding.
        Assert.Equal(24 + 8 + 8 + 12, n);
        Assert.Equal("0A000300" + Convert.ToHexString("lo:v1\0"u8) + "0000", Convert.ToHexString(buffer, 40, 12));
    }

    [Fact]
    public void Dump_request()
    {
        var buffer = new byte[RtnetlinkMessages.MaxRequestLength];
        var n = RtnetlinkMessages.WriteAddressDump(buffer, seq: 2);
        Assert.Equal("18000000" + "1600" + "0103" + "02000000" + "00000000" + "02000000" + "00000000", Convert.ToHexString(buffer, 0, n));
    }

    [Fact]
    public void Reads_an_ack_an_error_and_a_dump()
    {
        // NLMSG_ERROR with error 0 (the ACK) for seq 1, then one with -EEXIST (17) for seq 2.
        var ack = Convert.FromHexString("24000000" + "0200" + "0000" + "01000000" + "00000000" + "00000000" + new string('0', 32));
        Assert.Equal(new NetlinkOutcome(true, 0), RtnetlinkMessages.ReadReplies(ack, 1, 7, null));
        var exists = Convert.FromHexString("24000000" + "0200" + "0000" + "02000000" + "00000000" + "EFFFFFFF" + new string('0', 32));
        Assert.Equal(new NetlinkOutcome(true, 17), RtnetlinkMessages.ReadReplies(exists, 2, 7, null));
        // A stale reply of another request is skipped.
        Assert.Equal(new NetlinkOutcome(false, 0), RtnetlinkMessages.ReadReplies(exists, 3, 7, null));

        // RTM_NEWADDR for ifindex 7 (10.231.0.11/24, label "eth0") and one for ifindex 8, then DONE.
        var first = "34000000" + "1400" + "0200" + "05000000" + "00000000" + "02180000" + "07000000"
            + "08000200" + "0AE7000B" + "08000100" + "0AE7000B" + "09000300" + Convert.ToHexString("eth0\0"u8) + "000000";
        var second = "20000000" + "1400" + "0200" + "05000000" + "00000000" + "02200000" + "08000000" + "08000200" + "0A000001";
        var done = "14000000" + "0300" + "0200" + "05000000" + "00000000" + "00000000";
        var addresses = new List<InterfaceAddress>();
        var outcome = RtnetlinkMessages.ReadReplies(Convert.FromHexString(first + second + done), 5, 7, addresses);
        Assert.Equal(new NetlinkOutcome(true, 0), outcome);
        Assert.Equal([new InterfaceAddress(Ipv4Address.Parse("10.231.0.11"), 24, "eth0", false)], addresses);
    }
}
