using System.Runtime.InteropServices;
using static Appliance.Linux.Interop.IoctlH;

namespace Appliance.Linux.Interop;

#pragma warning disable CS8981, IDE1006 // C names kept on purpose

/// <summary>struct watchdog_info from &lt;linux/watchdog.h&gt;: 40 bytes, identity at offset 8.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct watchdog_info
{
    /// <summary>WDIOF_* bits the driver supports.</summary>
    public uint options;
    public uint firmware_version;
    /// <summary>NUL-padded ASCII name of the board, e.g. "i6300ESB timer", "Software Watchdog".</summary>
    public fixed byte identity[32];
}

/// <summary>
/// The ioctls and flags of &lt;linux/watchdog.h&gt; (Tmds.LibC 0.5.0 has none of them). The numbers
/// are computed with the header's own macros; a test compares them with what gcc prints.
/// </summary>
internal static unsafe class WatchdogH
{
    public const char WATCHDOG_IOCTL_BASE = 'W';

    public static uint WDIOC_GETSUPPORT => _IOR(WATCHDOG_IOCTL_BASE, 0, (uint)sizeof(watchdog_info));
    public static uint WDIOC_GETSTATUS => _IOR(WATCHDOG_IOCTL_BASE, 1, sizeof(int));
    public static uint WDIOC_GETBOOTSTATUS => _IOR(WATCHDOG_IOCTL_BASE, 2, sizeof(int));
    // KEEPALIVE is declared _IOR although it carries no data: the kernel still copies an int out
    // (some drivers write to it), so the caller must pass a valid int pointer, never NULL.
    public static uint WDIOC_KEEPALIVE => _IOR(WATCHDOG_IOCTL_BASE, 5, sizeof(int));
    // SETTIMEOUT reads the wanted seconds and writes back what the driver took (it may round up
    // to its prescaler's granularity or clamp): always use the value written back.
    public static uint WDIOC_SETTIMEOUT => _IOWR(WATCHDOG_IOCTL_BASE, 6, sizeof(int));
    public static uint WDIOC_GETTIMEOUT => _IOR(WATCHDOG_IOCTL_BASE, 7, sizeof(int));

    public const uint WDIOF_SETTIMEOUT = 0x0080;
    /// <summary>Writing 'V' before close stops the timer; without it, close leaves it running.</summary>
    public const uint WDIOF_MAGICCLOSE = 0x0100;
    public const uint WDIOF_KEEPALIVEPING = 0x8000;
}
