namespace Appliance.Linux.Interop;

#pragma warning disable IDE1006 // C names kept on purpose

/// <summary>What &lt;netinet/in.h&gt; has and Tmds.LibC 0.5.0 lacks.</summary>
internal static class NetinetInH
{
    /// <summary>IPPROTO_VRRP: not in glibc's header either; the IANA protocol number of VRRP.</summary>
    public const int IPPROTO_VRRP = 112;
}
