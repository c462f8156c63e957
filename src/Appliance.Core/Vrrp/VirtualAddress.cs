using System.Globalization;
using Appliance.Net;

namespace Appliance.Vrrp;

/// <summary>One configured virtual address (<c>virtual_ipaddress = ["10.0.0.100/24"]</c>) and the interface label it carries.</summary>
public readonly record struct VirtualAddress(Ipv4Address Address, byte PrefixLength)
{
    /// <summary>Parses "a.b.c.d/n" (already validated by the configuration).</summary>
    public static VirtualAddress Parse(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0) return new(Ipv4Address.Parse(text), 32);
        var prefix = byte.Parse(text[(slash + 1)..], CultureInfo.InvariantCulture);
        if (prefix > 32) throw new FormatException($"prefix length {prefix} is above 32: '{text}'");
        return new(Ipv4Address.Parse(text[..slash]), prefix);
    }

    /// <summary>
    /// The address label (IFA_LABEL) put on our virtual addresses: <c>&lt;ifname&gt;:vrrp&lt;vrid&gt;</c>,
    /// so that <c>ip addr</c> shows where an address came from and a restarted speaker can tell its
    /// own. The kernel keeps at most 15 bytes (IFNAMSIZ - 1) and, by the convention of ifconfig
    /// aliases, a label starts with the interface name; when the name is too long for the suffix, a
    /// shorter one (<c>:v51</c>, then <c>:51</c>) is used, and with no room at all the bare interface name.
    /// </summary>
    public static string Label(string interfaceName, byte virtualRouterId)
    {
        const int MaxLength = 15;
        foreach (var suffix in (ReadOnlySpan<string>)[$":vrrp{virtualRouterId}", $":v{virtualRouterId}", $":{virtualRouterId}"])
        {
            if (interfaceName.Length + suffix.Length <= MaxLength)
                return interfaceName + suffix;
        }
        return interfaceName;
    }

    /// <summary>"a.b.c.d/n".</summary>
    public override string ToString() => $"{Address}/{PrefixLength}";
}
