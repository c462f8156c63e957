using System.Runtime.InteropServices;

namespace Appliance.Balancer.Proxy.DataPath.Sockmap;

/// <summary>The value of map <c>appliance_peers</c>: <c>struct sockmap_peer</c> of native/sockmap/sockmap.h, field for field.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SockmapPeer
{
    /// <summary>Cookie of the socket this one's bytes go to.</summary>
    public ulong Peer;
    /// <summary>Bytes the kernel handed to the peer.</summary>
    public ulong Redirected;
    /// <summary>Bytes left on this socket for user space to forward.</summary>
    public ulong Passed;
}
