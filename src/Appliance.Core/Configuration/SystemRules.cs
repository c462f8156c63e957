namespace Appliance.Configuration;

/// <summary>Checks of <c>[system]</c> for the image's node set-up: the roles, the keys each role needs, interfaces and etcd members.</summary>
internal static class SystemRules
{
    /// <summary>The daemon roles whose required keys a node with <paramref name="system"/> must have.</summary>
    public static IEnumerable<ConfigRole> DaemonRoles(SystemSection system)
    {
        if (system.Roles.Contains("database")) yield return ConfigRole.Agent;
        if (system.Roles.Contains("balancer")) yield return ConfigRole.Balancer;
    }

    public static void Check(ApplianceConfig config, TomlTableNode tree, SourceLocation lastFile, ErrorList errors)
    {
        var system = config.System;
        var at = lastFile with { Line = 0, Column = 0 };
        if (!errors.HasFailed("system.roles") && tree.Find("system.roles") is { } roles && system.Roles.Count == 0)
            errors.Add(roles.KeyLocation, "system.roles", "expected at least one of \"database\", \"balancer\", found an empty array: a node with no role would do nothing");

        if (system.Roles.Contains("database") && !errors.HasFailed("system.etcd_initial_cluster"))
        {
            var names = system.EtcdInitialCluster.Select(m => m[..m.IndexOf('=', StringComparison.Ordinal)]).ToList();
            var where = tree.Find("system.etcd_initial_cluster")?.KeyLocation ?? at;
            if (names.Count == 0)
                errors.Add(where, "system.etcd_initial_cluster", "expected the etcd members (name=http://address:2380) with the database role: every database node runs an etcd member");
            else if (config.Node.Name.Length > 0 && !names.Contains(config.Node.Name, StringComparer.Ordinal))
                errors.Add(where, "system.etcd_initial_cluster", $"expected this node ({config.Node.Name}) among the etcd members, found {string.Join(", ", names)}: its etcd member is named after node.name");
            else if (names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                errors.Add(where, "system.etcd_initial_cluster", $"expected each etcd member once, found {twice.Key} {twice.Count()} times");
        }

        CheckInterfaces(config, tree, errors);
    }

    /// <summary>Names and MACs are unique, and every VRRP instance uses an interface the node configures (when it configures any).</summary>
    private static void CheckInterfaces(ApplianceConfig config, TomlTableNode tree, ErrorList errors)
    {
        var tables = tree.Find("system.interface")?.Value is TomlArray array ? array.Items.OfType<TomlTableNode>().ToList() : [];
        var interfaces = config.System.Interface;
        if (tables.Count != interfaces.Count)
            return;
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var macs = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < interfaces.Count; i++)
        {
            var path = $"system.interface[{i}]";
            if (interfaces[i].Name.Length > 0 && !names.TryAdd(interfaces[i].Name, i))
                errors.Add(At(tables[i], "name"), $"{path}.name", $"expected a unique interface name, found {TomlWriter.Quote(interfaces[i].Name)} again (system.interface[{names[interfaces[i].Name]}] has it)");
            if (interfaces[i].Mac.Length > 0 && !macs.TryAdd(interfaces[i].Mac, i))
                errors.Add(At(tables[i], "mac"), $"{path}.mac", $"expected a unique MAC address, found {interfaces[i].Mac} again (system.interface[{macs[interfaces[i].Mac]}] has it)");
        }
        if (interfaces.Count == 0 || tree.Find("vrrp")?.Value is not TomlArray vrrps)
            return;
        var vrrpTables = vrrps.Items.OfType<TomlTableNode>().ToList();
        for (var i = 0; i < config.Vrrp.Count && i < vrrpTables.Count; i++)
        {
            var name = config.Vrrp[i].Interface;
            if (name.Length > 0 && !names.ContainsKey(name) && !errors.HasFailed($"vrrp[{i}].interface"))
                errors.Add(At(vrrpTables[i], "interface"), $"vrrp[{i}].interface",
                    $"expected one of the [[system.interface]] names ({string.Join(", ", names.Keys)}), found {TomlWriter.Quote(name)}: the image names interfaces by MAC as [[system.interface]] says");
        }
    }

    private static SourceLocation At(TomlTableNode table, string key) => table.TryGet(key, out var entry) ? entry.KeyLocation : table.Location;
}
