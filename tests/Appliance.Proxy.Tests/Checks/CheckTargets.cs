using System.Net;
using System.Net.Sockets;
using Appliance.Balancer.Proxy.Checks;

namespace Appliance.Proxy.Tests.Checks;

/// <summary>Targets on 127.0.0.1 for the check tests.</summary>
static class CheckTargets
{
    public static CheckTarget At(int port, string? api = null, string name = "db") => new(new Backend(name, "127.0.0.1", port), api);

    public static CheckTarget Api(int apiPort, string name = "db") => new(new Backend(name, "127.0.0.1", 1), $"http://127.0.0.1:{apiPort}");

    /// <summary>A port nothing listens on: bound, then released (the kernel does not hand it out again at once).</summary>
    public static int ClosedPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }
}
