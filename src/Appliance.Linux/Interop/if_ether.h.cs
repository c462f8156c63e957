namespace Appliance.Linux.Interop;

#pragma warning disable IDE1006 // C names kept on purpose

/// <summary>The Ethernet protocol ids of &lt;linux/if_ether.h&gt; (Tmds.LibC 0.5.0 has none).</summary>
internal static class IfEtherH
{
    public const int ETH_ALEN = 6;
    public const ushort ETH_P_IP = 0x0800;
    public const ushort ETH_P_ARP = 0x0806;
}
