using System.Runtime.InteropServices;

namespace Appliance.Linux.Interop;

#pragma warning disable CS8981, IDE1006 // C names kept on purpose

/// <summary>struct rtattr from &lt;linux/rtnetlink.h&gt;: 4 bytes, then the payload, padded to 4.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct rtattr
{
    /// <summary>Header plus payload, without the padding.</summary>
    public ushort rta_len;
    public ushort rta_type;
}

/// <summary>The message types and helpers of &lt;linux/rtnetlink.h&gt; (Tmds.LibC 0.5.0 has no rtnetlink).</summary>
internal static class RtnetlinkH
{
    public const ushort RTM_NEWLINK = 16;
    public const ushort RTM_DELLINK = 17;
    public const ushort RTM_GETLINK = 18;
    public const ushort RTM_NEWADDR = 20;
    public const ushort RTM_DELADDR = 21;
    public const ushort RTM_GETADDR = 22;

    public const int RTA_ALIGNTO = 4;
    public static int RTA_ALIGN(int len) => (len + RTA_ALIGNTO - 1) & ~(RTA_ALIGNTO - 1);
    public const int RTA_HDRLEN = 4;

    /// <summary>enum rt_scope_t: RT_SCOPE_UNIVERSE, a global address (what <c>ip addr add</c> gives).</summary>
    public const byte RT_SCOPE_UNIVERSE = 0;
}
