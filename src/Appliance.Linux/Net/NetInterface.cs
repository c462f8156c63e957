using Appliance.Linux.Interop;
using Appliance.Net;

namespace Appliance.Linux.Net;

/// <summary>What the speaker reads about an interface: its index, its MAC, whether its link is up.</summary>
public static class NetInterface
{
    /// <summary>The interface index, or throws <see cref="NetException"/> (ENODEV) when there is no such interface.</summary>
    public static int IndexOf(string name)
    {
        var index = NetIfH.if_nametoindex(name);
        if (index == 0) throw new NetException($"if_nametoindex({name})", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        return (int)index;
    }

    /// <summary>The hardware address from <c>/sys/class/net/&lt;name&gt;/address</c>.</summary>
    public static MacAddress MacOf(string name)
    {
        var text = File.ReadAllText($"/sys/class/net/{name}/address");
        return MacAddress.TryParse(text, out var mac) ? mac : throw new FormatException($"{name}: not a MAC address: '{text.Trim()}'");
    }

    /// <summary>
    /// Whether the link is usable, from <c>/sys/class/net/&lt;name&gt;/operstate</c> (RFC 2863's
    /// ifOperStatus): "up", and "unknown" (what loopback and some virtual drivers report while
    /// working), count as up; a missing interface is down.
    /// </summary>
    public static bool IsLinkUp(string name)
    {
        try
        {
            return File.ReadAllText($"/sys/class/net/{name}/operstate").Trim() is "up" or "unknown";
        }
        catch (IOException)
        {
            return false;
        }
    }
}
