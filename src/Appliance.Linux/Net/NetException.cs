using System.Runtime.InteropServices;

namespace Appliance.Linux.Net;

/// <summary>A socket or netlink call failed: names what was being done and the errno.</summary>
public sealed class NetException : IOException
{
    /// <summary>The errno of the failed call.</summary>
    public int Errno { get; }

    public NetException(string operation, int errno)
        : base($"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})") => Errno = errno;
}
