using Appliance.TestKit;

namespace Appliance.Balancer.Tests;

/// <summary>
/// Two network namespaces joined by a veth pair, made for one test and removed on Dispose even after
/// a failure. Names carry this process's id and a random part (<c>aplspk&lt;pid&gt;&lt;rand&gt;</c>), addresses
/// are 10.231.<see cref="Subnet"/>.0/24 and exist only inside the namespaces: the host's own
/// interfaces and addresses are never touched. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for netns).
/// </summary>
public sealed class VethNamespaces : IDisposable
{
    /// <summary>Namespace names.</summary>
    public string NsA { get; }
    public string NsB { get; }
    /// <summary>The veth ends, one in each namespace (at most 15 characters).</summary>
    public string IfA { get; }
    public string IfB { get; }
    /// <summary>The third octet of 10.231.x.0/24.</summary>
    public int Subnet { get; }
    public string AddressA => $"10.231.{Subnet}.1";
    public string AddressB => $"10.231.{Subnet}.2";

    VethNamespaces(string prefix, int subnet)
    {
        NsA = prefix + "a";
        NsB = prefix + "b";
        IfA = prefix + "x";
        IfB = prefix + "y";
        Subnet = subnet;
    }

    public static async Task<VethNamespaces> CreateAsync()
    {
        var prefix = $"aplspk{Environment.ProcessId % 100000}{Random.Shared.Next(100, 1000)}";
        var lab = new VethNamespaces(prefix, Random.Shared.Next(100, 200));
        try
        {
            await Ip("netns", "add", lab.NsA);
            await Ip("netns", "add", lab.NsB);
            await Ip("link", "add", lab.IfA, "netns", lab.NsA, "type", "veth", "peer", "name", lab.IfB, "netns", lab.NsB);
            foreach (var (ns, ifname, address) in new[] { (lab.NsA, lab.IfA, lab.AddressA), (lab.NsB, lab.IfB, lab.AddressB) })
            {
                await Ip("-n", ns, "addr", "add", address + "/24", "dev", ifname);
                await Ip("-n", ns, "link", "set", ifname, "up");
                await Ip("-n", ns, "link", "set", "lo", "up");
            }
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>The IPv4 addresses on the namespace's veth end, as <c>ip -n ns -4 -o addr</c> prints them ("10.231.5.100/24").</summary>
    public async Task<IReadOnlyList<string>> AddressesAsync(string ns, string ifname)
    {
        var r = await Cli.RunAsync("ip", ["-n", ns, "-4", "-o", "addr", "show", "dev", ifname]);
        if (r.ExitCode != 0) throw new InvalidOperationException($"ip -n {ns} addr: {r.Errors}");
        return [.. r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(w => w[Array.IndexOf(w, "inet") + 1])];
    }

    static async Task Ip(params string[] args)
    {
        var r = await Cli.RunAsync("ip", args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {r.Errors.Trim()}");
    }

    /// <summary>Deleting a namespace deletes its veth end, and with it the peer.</summary>
    public void Dispose()
    {
        foreach (var ns in new[] { NsA, NsB })
            Cli.RunAsync("ip", ["netns", "del", ns]).GetAwaiter().GetResult();
    }
}
