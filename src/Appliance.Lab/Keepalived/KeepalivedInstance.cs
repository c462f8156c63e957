using System.Globalization;
using System.Net;
using System.Text;

namespace Appliance.Lab.Keepalived;

/// <summary>
/// One keepalived VRRP instance, as the reference stack configures it (keepalived 2.2.7, Debian 12).
/// <see cref="Render"/> writes the keepalived.conf. Version 2 uses <c>auth_type PASS</c> when
/// <see cref="AuthPass"/> is set; version 3 carries no authentication and accepts a fractional
/// <see cref="AdvertInterval"/> (centiseconds on the wire), which version 2 rounds to whole seconds.
/// </summary>
public sealed record KeepalivedInstance
{
    /// <summary>Names the instance and, unless <see cref="RouterId"/> is set, is the router_id in global_defs.</summary>
    public string Name { get; init; } = "VI_1";
    /// <summary>The router_id in global_defs (the seed names the node: "lb1"); null for <see cref="Name"/>.</summary>
    public string? RouterId { get; init; }
    public required string Interface { get; init; }
    public required int VirtualRouterId { get; init; }
    public required int Priority { get; init; }
    public required IPAddress Vip { get; init; }
    public int VipPrefixLength { get; init; } = 24;
    /// <summary>2 (RFC 3768) or 3 (RFC 5798).</summary>
    public int Version { get; init; } = 2;
    public TimeSpan AdvertInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>The version-2 PASS password (up to 8 characters); null for no authentication.</summary>
    public string? AuthPass { get; init; }
    /// <summary>"BACKUP" (both nodes start as backups and the higher priority wins) or "MASTER".</summary>
    public string InitialState { get; init; } = "BACKUP";
    public bool Preempt { get; init; } = true;
    /// <summary>Unicast: this node's source address and its peers; null for multicast to 224.0.0.18.</summary>
    public (IPAddress Source, IReadOnlyList<IPAddress> Peers)? Unicast { get; init; }
    /// <summary>Gratuitous ARPs sent at once on becoming master (<c>vrrp_garp_master_repeat</c>).</summary>
    public int GarpMasterRepeat { get; init; } = 5;
    /// <summary>Delay of the second burst of gratuitous ARPs (<c>vrrp_garp_master_delay</c>, seconds; 0: none).</summary>
    public int GarpMasterDelay { get; init; } = 5;
    /// <summary>A script run on every transition with keepalived's arguments (<c>INSTANCE name state priority</c>).</summary>
    public string? NotifyScript { get; init; }
    /// <summary>A health check whose failure lowers the priority (<c>vrrp_script</c> and <c>track_script</c>), as the seed's chk_haproxy; null for none.</summary>
    public KeepalivedScript? TrackScript { get; init; }

    /// <summary>The keepalived.conf text for this instance.</summary>
    public string Render()
    {
        if (Version is not (2 or 3)) throw new ArgumentException($"VRRP version {Version}: 2 or 3");
        if (Version == 3 && AuthPass is not null) throw new ArgumentException("VRRPv3 has no authentication (RFC 5798)");
        var advert = Version == 3
            ? AdvertInterval.TotalSeconds.ToString("0.0#", CultureInfo.InvariantCulture)
            : Math.Max(1, (int)Math.Round(AdvertInterval.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var c = new StringBuilder();
        c.Append(CultureInfo.InvariantCulture, $$"""
            global_defs {
              router_id {{RouterId ?? Name}}
              # Scripts run as root: there is no keepalived_script user in the lab.
              script_user root
              vrrp_garp_master_delay {{GarpMasterDelay}}
              vrrp_garp_master_repeat {{GarpMasterRepeat}}
            }


            """);
        if (TrackScript is { } t)
            c.Append(CultureInfo.InvariantCulture, $"vrrp_script {t.Name} {{\n  script \"{t.Script}\"\n  interval {t.Interval}\n  fall {t.Fall}\n  rise {t.Rise}\n  weight {t.Weight}\n}}\n\n");
        c.Append(CultureInfo.InvariantCulture, $$"""
            vrrp_instance {{Name}} {
              state {{InitialState}}
              interface {{Interface}}
              virtual_router_id {{VirtualRouterId}}
              priority {{Priority}}
              version {{Version}}
              advert_int {{advert}}

            """);
        if (!Preempt) c.AppendLine("  nopreempt");
        if (AuthPass is not null)
            c.Append(CultureInfo.InvariantCulture, $"  authentication {{\n    auth_type PASS\n    auth_pass {AuthPass}\n  }}\n");
        if (Unicast is { } u)
        {
            c.Append(CultureInfo.InvariantCulture, $"  unicast_src_ip {u.Source}\n  unicast_peer {{\n");
            foreach (var p in u.Peers) c.Append(CultureInfo.InvariantCulture, $"    {p}\n");
            c.AppendLine("  }");
        }
        c.Append(CultureInfo.InvariantCulture, $"  virtual_ipaddress {{\n    {Vip}/{VipPrefixLength} dev {Interface}\n  }}\n");
        if (TrackScript is not null) c.Append(CultureInfo.InvariantCulture, $"  track_script {{\n    {TrackScript.Name}\n  }}\n");
        if (NotifyScript is not null) c.Append(CultureInfo.InvariantCulture, $"  notify \"{NotifyScript}\"\n");
        c.AppendLine("}");
        return c.ToString();
    }
}

/// <summary>
/// A keepalived <c>vrrp_script</c>: run every <see cref="Interval"/> seconds; after <see cref="Fall"/>
/// failures in a row the tracking instance's priority changes by <see cref="Weight"/> (negative: the
/// peer takes over), after <see cref="Rise"/> successes it is restored.
/// </summary>
public sealed record KeepalivedScript(string Name, string Script, int Interval = 3, int Fall = 3, int Rise = 2, int Weight = -30);
