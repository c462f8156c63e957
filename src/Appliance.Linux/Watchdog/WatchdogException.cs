using System.Runtime.InteropServices;

namespace Appliance.Linux.Watchdog;

/// <summary>A watchdog device call failed: names the device, the operation and the errno.</summary>
public sealed class WatchdogException : IOException
{
    public string Device { get; }
    public string Operation { get; }
    /// <summary>The errno of the failed call; 0 when the failure is not a system call's.</summary>
    public int Errno { get; }

    public WatchdogException(string device, string operation, int errno, string? hint = null)
        : base($"watchdog {device}: {operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})"
            + (hint is null ? "" : $"; {hint}"))
    {
        Device = device;
        Operation = operation;
        Errno = errno;
    }
}
