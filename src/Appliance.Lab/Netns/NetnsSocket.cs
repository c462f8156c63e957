using System.Net.Sockets;
using Tmds.Linux;

namespace Appliance.Lab.Netns;

/// <summary>
/// Sockets that live in a named network namespace, created from this process. A socket belongs to
/// the namespace of the thread that called socket(2) for its whole life, so a short-lived thread
/// enters the namespace (setns), creates the socket and leaves; the socket is then used from any
/// thread like any other. This lets tests and benchmarks connect and listen inside the lab with
/// exact timestamps and no process per attempt.
/// </summary>
public static class NetnsSocket
{
    // <linux/sched.h>: the namespace type setns(2) must find behind the file descriptor.
    const int CLONE_NEWNET = 0x40000000;

    /// <summary>A new socket in namespace <paramref name="netns"/> (a name under /run/netns).</summary>
    public static Socket Create(string netns, SocketType type = SocketType.Stream, ProtocolType protocol = ProtocolType.Tcp)
    {
        Socket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var target = File.OpenHandle($"/run/netns/{netns}");
                using var home = File.OpenHandle("/proc/thread-self/ns/net");
                Enter(target, netns);
                try { socket = new Socket(AddressFamily.InterNetwork, type, protocol); }
                finally { Enter(home, "the original namespace"); }
            }
            catch (Exception e)
            {
                error = e;
            }
        }) { IsBackground = true, Name = $"setns {netns}" };
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"cannot create a socket in namespace {netns}", error);
    }

    static void Enter(Microsoft.Win32.SafeHandles.SafeFileHandle ns, string what)
    {
        if (LibC.setns((int)ns.DangerousGetHandle(), CLONE_NEWNET) != 0)
            throw new InvalidOperationException($"setns into {what} failed: errno {LibC.errno}");
    }
}
