using System.Globalization;
using System.Text;

namespace Appliance.Configuration;

/// <summary>Checks of the <c>[[vrrp]]</c> instances that tie keys together (version and interval, version and password, unique names).</summary>
internal static class VrrpRules
{
    /// <summary>VRRPv3's Max Adver Int is 12 bits of centiseconds.</summary>
    private const int MaxV3IntervalCs = 4095;

    public static void Check(IReadOnlyList<VrrpInstanceSection> instances, bool hasProxy, TomlTableNode tree, SourceLocation lastFile, ErrorList errors, ConfigRole role)
    {
        var tables = tree.Find("vrrp")?.Value is TomlArray array ? array.Items.OfType<TomlTableNode>().ToList() : [];
        if (role == ConfigRole.Balancer && instances.Count == 0 && !hasProxy && !errors.HasFailed("vrrp"))
            errors.Add(lastFile with { Line = 0, Column = 0 }, "vrrp", "expected at least one [[vrrp]] instance or [[proxy.listener]]: a load balancer holds virtual addresses through VRRP, proxies PostgreSQL, or both");
        if (tables.Count != instances.Count)
            return;

        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var routers = new Dictionary<(string, int), int>();
        for (var i = 0; i < instances.Count; i++)
        {
            var vrrp = instances[i];
            var table = tables[i];
            var path = $"vrrp[{i}]";
            CheckInterval(vrrp, table, path, errors);
            CheckPassword(vrrp, table, path, errors);

            if (vrrp.Name.Length > 0 && !names.TryAdd(vrrp.Name, i))
                errors.Add(At(table, "name"), $"{path}.name", $"expected a unique instance name, found {TomlWriter.Quote(vrrp.Name)} again (vrrp[{names[vrrp.Name]}] has it)");
            if (vrrp.Interface.Length > 0 && vrrp.VirtualRouterId > 0 && !routers.TryAdd((vrrp.Interface, vrrp.VirtualRouterId), i))
                errors.Add(At(table, "virtual_router_id"), $"{path}.virtual_router_id",
                    $"expected a VRID unique on interface {vrrp.Interface}, found {vrrp.VirtualRouterId} again (vrrp[{routers[(vrrp.Interface, vrrp.VirtualRouterId)]}] has it): "
                    + "two instances would answer each other's adverts");
        }
    }

    /// <summary>v2 carries whole seconds in 8 bits; v3 centiseconds in 12 bits.</summary>
    private static void CheckInterval(VrrpInstanceSection vrrp, TomlTableNode table, string path, ErrorList errors)
    {
        var key = $"{path}.advert_int";
        if (errors.HasFailed(key) || errors.HasFailed($"{path}.version"))
            return;
        var cs = (int)Math.Round(vrrp.AdvertInt.TotalMilliseconds / 10);
        var seconds = (cs / 100.0).ToString("R", CultureInfo.InvariantCulture);
        var (at, where) = table.TryGet("advert_int", out var entry) ? (entry.KeyLocation, key) : (At(table, "version"), $"{path}.version");
        if (vrrp.Version == 2 && cs % 100 != 0)
            errors.Add(at, where, $"expected whole seconds for a version 2 advert_int (its Adver Int field counts seconds), found {seconds}; use version = 3 for shorter intervals");
        else if (vrrp.Version == 3 && cs > MaxV3IntervalCs)
            errors.Add(at, where, $"expected at most 40.95 seconds for a version 3 advert_int (12 bits of centiseconds), found {seconds}");
    }

    /// <summary>The v2 password field is 8 bytes; v3 has no authentication at all (RFC 5798 dropped it).</summary>
    private static void CheckPassword(VrrpInstanceSection vrrp, TomlTableNode table, string path, ErrorList errors)
    {
        var key = $"{path}.auth_pass";
        if (vrrp.AuthPass is null || errors.HasFailed(key))
            return;
        if (vrrp.Version == 3 && !errors.HasFailed($"{path}.version"))
            errors.Add(At(table, "auth_pass"), key, "expected no auth_pass with version = 3: VRRPv3 (RFC 5798) has no authentication; remove it or use version = 2");
        else if (Encoding.UTF8.GetByteCount(vrrp.AuthPass) > 8)
            errors.Add(At(table, "auth_pass"), key, $"expected at most 8 bytes (the size of the Authentication Data field), found {Encoding.UTF8.GetByteCount(vrrp.AuthPass)}");
    }

    private static SourceLocation At(TomlTableNode table, string key) => table.TryGet(key, out var entry) ? entry.KeyLocation : table.Location;
}
