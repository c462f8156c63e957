namespace Appliance.Lab;

/// <summary>Ports on 127.0.0.1 nobody listens on now: bound to port 0 together (so they differ), then released.</summary>
public static class LoopbackPorts
{
    public static int[] Free(int n)
    {
        var listeners = Enumerable.Range(0, n).Select(_ =>
        {
            var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            l.Start();
            return l;
        }).ToList();
        var ports = listeners.Select(l => ((System.Net.IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
