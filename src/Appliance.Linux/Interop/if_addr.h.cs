using System.Runtime.InteropServices;

namespace Appliance.Linux.Interop;

#pragma warning disable CS8981, IDE1006 // C names kept on purpose

/// <summary>struct ifaddrmsg from &lt;linux/if_addr.h&gt;: 8 bytes after the nlmsghdr of RTM_*ADDR.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ifaddrmsg
{
    public byte ifa_family;
    public byte ifa_prefixlen;
    /// <summary>IFA_F_* (IFA_F_SECONDARY for an address in a subnet that already has a primary).</summary>
    public byte ifa_flags;
    public byte ifa_scope;
    public uint ifa_index;
}

/// <summary>The IFA_* attribute types of &lt;linux/if_addr.h&gt;.</summary>
internal static class IfAddrH
{
    /// <summary>The peer address (point-to-point); on broadcast interfaces the same as IFA_LOCAL.</summary>
    public const ushort IFA_ADDRESS = 1;
    /// <summary>The address itself.</summary>
    public const ushort IFA_LOCAL = 2;
    /// <summary>NUL-terminated label, at most IFNAMSIZ bytes with the NUL.</summary>
    public const ushort IFA_LABEL = 3;
    public const ushort IFA_BROADCAST = 4;

    public const byte IFA_F_SECONDARY = 0x01;
}
