using System.Globalization;
using System.Net;
using System.Text;

namespace Appliance.Lab.Balancer;

/// <summary>
/// One <c>[[vrrp]]</c> instance of <c>appliance-balancer</c>, with the same knobs as
/// <see cref="Keepalived.KeepalivedInstance"/> so a test or benchmark can run either implementation
/// from one description. <see cref="Render"/> writes the TOML.
/// </summary>
public sealed record BalancerInstance
{
    public string Name { get; init; } = "VI_1";
    public required string Interface { get; init; }
    public required int VirtualRouterId { get; init; }
    public required int Priority { get; init; }
    public required IPAddress Vip { get; init; }
    public int VipPrefixLength { get; init; } = 24;
    public int Version { get; init; } = 2;
    public TimeSpan AdvertInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>The version-2 PASS password; null for none.</summary>
    public string? AuthPass { get; init; }
    /// <summary>Unicast peers instead of multicast 224.0.0.18; empty for multicast.</summary>
    public IReadOnlyList<IPAddress> UnicastPeers { get; init; } = [];
    public int GarpMasterRepeat { get; init; } = 5;
    public int GarpMasterDelay { get; init; } = 5;
    /// <summary>Where /metrics and /status listen inside the node's namespace.</summary>
    public string Listen { get; init; } = "127.0.0.1:8009";
    /// <summary>More TOML appended inside the instance (track scripts, notify scripts).</summary>
    public string Extra { get; init; } = "";

    public string Render()
    {
        var c = new StringBuilder();
        c.Append(CultureInfo.InvariantCulture, $"""
            [balancer]
            listen = "{Listen}"

            [[vrrp]]
            name = "{Name}"
            interface = "{Interface}"
            virtual_router_id = {VirtualRouterId}
            priority = {Priority}
            version = {Version}
            advert_int = {AdvertInterval.TotalSeconds.ToString("0.0#", CultureInfo.InvariantCulture)}
            virtual_ipaddress = ["{Vip}/{VipPrefixLength}"]
            garp_master_repeat = {GarpMasterRepeat}
            garp_master_delay = {GarpMasterDelay}

            """);
        if (AuthPass is not null) c.Append(CultureInfo.InvariantCulture, $"auth_pass = \"{AuthPass}\"\n");
        if (UnicastPeers.Count > 0) c.Append(CultureInfo.InvariantCulture, $"unicast_peers = [{string.Join(", ", UnicastPeers.Select(p => $"\"{p}\""))}]\n");
        c.AppendLine(Extra);
        return c.ToString();
    }
}
