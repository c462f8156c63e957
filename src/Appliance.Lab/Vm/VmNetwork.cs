using Appliance.Lab.NetLab;
using Appliance.Lab.Netns;

namespace Appliance.Lab.Vm;

/// <summary>
/// The VMs' wire: one network namespace (named by <see cref="NetnsName"/>, so a later run sweeps it when
/// this process died) holding a bridge and one tap per VM; QEMU runs inside it. The namespace itself is
/// the client: the bridge has the lab's client address, so sockets created there (<see cref="NetnsSocket"/>)
/// reach the VMs and the VIP. Nothing of it exists on the machine's own interfaces.
/// </summary>
public sealed class VmNetwork : IAsyncDisposable
{
    const string Bridge = "br0";

    VmNetwork(NetnsName name, string dir)
    {
        Name = name;
        Dir = dir;
    }

    public NetnsName Name { get; }
    /// <summary>The namespace QEMU and the client sockets live in.</summary>
    public string Namespace => Name.Namespace("vmlab");
    /// <summary>The run's folder under the temporary directory (named by the same prefix: swept with the namespace).</summary>
    public string Dir { get; }

    /// <summary>The tap of VM <paramref name="vm"/> (interface names are at most 15 characters).</summary>
    public static string Tap(string vm) => $"tap-{vm}";

    /// <summary>QEMU's <c>-netdev</c> value for VM <paramref name="vm"/>: its tap, no scripts (the tap is already on the bridge).</summary>
    public static string Netdev(string vm) => $"tap,ifname={Tap(vm)},script=no,downscript=no";

    /// <summary>Sweeps leftovers of killed runs, then creates the namespace, the bridge and a tap for each of <paramref name="vms"/>.</summary>
    public static async Task<VmNetwork> CreateAsync(IEnumerable<string> vms)
    {
        await NetnsSweeper.SweepAsync();
        var name = NetnsName.New();
        var net = new VmNetwork(name, Path.Combine(Path.GetTempPath(), name.Prefix));
        Directory.CreateDirectory(net.Dir);
        try
        {
            var ns = net.Namespace;
            await Command.IpAsync("netns", "add", ns);
            await Command.IpAsync("-n", ns, "link", "set", "lo", "up");
            // No multicast snooping: VRRP's 224.0.0.18 adverts reach every port, as on a plain switch.
            await Command.IpAsync("-n", ns, "link", "add", Bridge, "type", "bridge", "mcast_snooping", "0");
            await Command.IpAsync("-n", ns, "addr", "add", $"{LabLayout.Client.Address}/{LabLayout.VipPrefixLength}", "dev", Bridge);
            await Command.IpAsync("-n", ns, "link", "set", Bridge, "up");
            foreach (var vm in vms)
            {
                await Command.IpAsync("-n", ns, "tuntap", "add", "dev", Tap(vm), "mode", "tap");
                await Command.IpAsync("-n", ns, "link", "set", Tap(vm), "master", Bridge, "up");
            }
            return net;
        }
        catch
        {
            await net.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills whatever still runs in the namespace (QEMU by PID), deletes it with its bridge and taps, and the folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (File.Exists($"/run/netns/{Namespace}"))
        {
            await NetnsSweeper.KillAllInAsync(Namespace);
            await Command.RunAsync("ip", ["netns", "del", Namespace]);
        }
        try { Directory.Delete(Dir, recursive: true); } catch (DirectoryNotFoundException) { } catch (IOException) { }
    }
}
