using System.Net;
using System.Net.Sockets;

namespace Appliance.TestKit;

/// <summary>Ports on 127.0.0.1 that were free a moment ago (the kernel picks them).</summary>
public static class FreePorts
{
    public static int Next()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
