using System.Runtime.InteropServices;

namespace Appliance.Linux.Interop;

#pragma warning disable CS8981, IDE1006 // C names kept on purpose

/// <summary>struct sockaddr_nl from &lt;linux/netlink.h&gt;: 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct sockaddr_nl
{
    public ushort nl_family;
    public ushort nl_pad;
    /// <summary>Port id: 0 lets the kernel pick (ours) and addresses the kernel (as a destination).</summary>
    public uint nl_pid;
    /// <summary>Multicast groups to listen to (RTMGRP_*).</summary>
    public uint nl_groups;
}

/// <summary>struct nlmsghdr from &lt;linux/netlink.h&gt;: 16 bytes, host byte order, before every netlink message.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct nlmsghdr
{
    public uint nlmsg_len;
    public ushort nlmsg_type;
    public ushort nlmsg_flags;
    public uint nlmsg_seq;
    public uint nlmsg_pid;
}

/// <summary>The constants of &lt;linux/netlink.h&gt; (Tmds.LibC 0.5.0 has AF_NETLINK only).</summary>
internal static class NetlinkH
{
    public const int NETLINK_ROUTE = 0;

    public const ushort NLM_F_REQUEST = 0x01;
    public const ushort NLM_F_MULTI = 0x02;
    public const ushort NLM_F_ACK = 0x04;
    // Modifiers to GET requests.
    public const ushort NLM_F_ROOT = 0x100;
    public const ushort NLM_F_MATCH = 0x200;
    public const ushort NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    // Modifiers to NEW requests.
    public const ushort NLM_F_REPLACE = 0x100;
    public const ushort NLM_F_EXCL = 0x200;
    public const ushort NLM_F_CREATE = 0x400;

    public const ushort NLMSG_NOOP = 1;
    /// <summary>Followed by struct nlmsgerr: an int error (0 = ACK, else -errno) and the request's header.</summary>
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;

    public const int NLMSG_ALIGNTO = 4;
    public static int NLMSG_ALIGN(int len) => (len + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
    public const int NLMSG_HDRLEN = 16;
}
