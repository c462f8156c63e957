using System.Runtime.InteropServices;

namespace Appliance.Linux.Interop;

#pragma warning disable IDE1006 // C names kept on purpose

/// <summary>&lt;net/if.h&gt;: if_nametoindex (Tmds.LibC 0.5.0 lacks it).</summary>
internal static partial class NetIfH
{
    /// <summary>IFNAMSIZ: an interface name and its NUL.</summary>
    public const int IFNAMSIZ = 16;

    /// <summary>The interface index of <paramref name="ifname"/>, or 0 with errno set (ENODEV).</summary>
    [LibraryImport("libc", EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial uint if_nametoindex(string ifname);
}
