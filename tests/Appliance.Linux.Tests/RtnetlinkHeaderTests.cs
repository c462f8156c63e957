using Appliance.Linux.Interop;
using Appliance.TestKit;

namespace Appliance.Linux.Tests;

/// <summary>The netlink, rtnetlink and packet constants and struct sizes declared by hand, against what gcc computes from the kernel headers.</summary>
public sealed class RtnetlinkHeaderTests
{
    [Fact]
    public unsafe void Constants_and_layouts_match_the_kernel_headers()
    {
        using var dir = new TempDir("appl-rtnlh");
        File.WriteAllText(dir.Sub("h.c"), """
            #include <stdio.h>
            #include <net/if.h>
            #include <linux/netlink.h>
            #include <linux/rtnetlink.h>
            #include <linux/if_addr.h>
            #include <linux/if_ether.h>
            #define P(x) printf(#x "=%lu\n", (unsigned long)(x))
            int main(void) {
                P(NETLINK_ROUTE); P(NLM_F_REQUEST); P(NLM_F_ACK); P(NLM_F_DUMP); P(NLM_F_EXCL); P(NLM_F_CREATE);
                P(NLMSG_ERROR); P(NLMSG_DONE); P(NLMSG_HDRLEN);
                P(RTM_NEWADDR); P(RTM_DELADDR); P(RTM_GETADDR); P(RT_SCOPE_UNIVERSE);
                P(IFA_ADDRESS); P(IFA_LOCAL); P(IFA_LABEL); P(IFA_F_SECONDARY);
                P(ETH_P_ARP); P(ETH_ALEN); P(IFNAMSIZ);
                P(sizeof(struct sockaddr_nl)); P(sizeof(struct nlmsghdr)); P(sizeof(struct ifaddrmsg)); P(sizeof(struct rtattr));
                return 0;
            }
            """);
        var gcc = EmulatorBinary.Run("gcc", "-o", dir.Sub("h"), dir.Sub("h.c"));
        Assert.True(gcc.ExitCode == 0, $"gcc failed (run scripts/setup.sh): {gcc.Errors}");
        var c = EmulatorBinary.Run(dir.Sub("h")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=')).ToDictionary(p => p[0], p => ulong.Parse(p[1]));

        (string Name, ulong CSharp)[] ours =
        [
            ("NETLINK_ROUTE", NetlinkH.NETLINK_ROUTE), ("NLM_F_REQUEST", NetlinkH.NLM_F_REQUEST), ("NLM_F_ACK", NetlinkH.NLM_F_ACK),
            ("NLM_F_DUMP", NetlinkH.NLM_F_DUMP), ("NLM_F_EXCL", NetlinkH.NLM_F_EXCL), ("NLM_F_CREATE", NetlinkH.NLM_F_CREATE),
            ("NLMSG_ERROR", NetlinkH.NLMSG_ERROR), ("NLMSG_DONE", NetlinkH.NLMSG_DONE), ("NLMSG_HDRLEN", NetlinkH.NLMSG_HDRLEN),
            ("RTM_NEWADDR", RtnetlinkH.RTM_NEWADDR), ("RTM_DELADDR", RtnetlinkH.RTM_DELADDR), ("RTM_GETADDR", RtnetlinkH.RTM_GETADDR),
            ("RT_SCOPE_UNIVERSE", RtnetlinkH.RT_SCOPE_UNIVERSE),
            ("IFA_ADDRESS", IfAddrH.IFA_ADDRESS), ("IFA_LOCAL", IfAddrH.IFA_LOCAL), ("IFA_LABEL", IfAddrH.IFA_LABEL), ("IFA_F_SECONDARY", IfAddrH.IFA_F_SECONDARY),
            ("ETH_P_ARP", IfEtherH.ETH_P_ARP), ("ETH_ALEN", IfEtherH.ETH_ALEN), ("IFNAMSIZ", NetIfH.IFNAMSIZ),
            ("sizeof(struct sockaddr_nl)", (ulong)sizeof(sockaddr_nl)), ("sizeof(struct nlmsghdr)", (ulong)sizeof(nlmsghdr)),
            ("sizeof(struct ifaddrmsg)", (ulong)sizeof(ifaddrmsg)), ("sizeof(struct rtattr)", (ulong)sizeof(rtattr)),
        ];
        foreach (var (name, value) in ours)
            Assert.True(c[name] == value, $"{name}: C says {c[name]}, C# says {value}");
    }
}
