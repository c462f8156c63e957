using System.Net;
using System.Net.NetworkInformation;

namespace Appliance.Lab.Netns;

/// <summary>
/// One node of a topology: its own namespace with one interface (<see cref="Interface"/>) cabled to
/// the switch. <paramref name="Name"/> is short lower-case letters and digits (it ends the namespace
/// name and names the switch port <c>p-&lt;name&gt;</c>, at most 15 characters).
/// </summary>
public sealed record NodeSpec(string Name, IPAddress Address, PhysicalAddress Mac, int PrefixLength = 24)
{
    /// <summary>The node's interface name inside its namespace.</summary>
    public const string Interface = "eth0";

    /// <summary>The bridge port in the switch namespace the node is cabled to.</summary>
    public string SwitchPort => $"p-{Name}";

    /// <summary>"02:00:00:00:00:0a" as ip(8) writes it.</summary>
    public string MacText => string.Join(':', Mac.GetAddressBytes().Select(b => b.ToString("x2")));

    /// <summary>A spec from text: <c>Node("lb1", "10.231.0.11", "02:00:00:00:00:0a")</c>.</summary>
    public static NodeSpec Of(string name, string address, string mac) => new(name, IPAddress.Parse(address), PhysicalAddress.Parse(mac));
}
