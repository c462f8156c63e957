namespace Appliance.Configuration;

/// <summary>Checks of <c>[proxy]</c> that tie keys together: unique listener names and addresses, unique backends, and what static discovery needs.</summary>
internal static class ProxyRules
{
    public static void Check(ProxySection proxy, TomlTableNode tree, SourceLocation lastFile, ErrorList errors)
    {
        var listeners = Tables(tree, "proxy.listener");
        if (listeners.Count == proxy.Listener.Count)
        {
            Unique(proxy.Listener, l => l.Name, listeners, "proxy.listener", "name", "listener name", errors);
            Unique(proxy.Listener, l => l.Bind, listeners, "proxy.listener", "bind", "address (two listeners cannot share a port)", errors);
            for (var i = 0; i < proxy.Listener.Count; i++)
            {
                var bind = proxy.Listener[i].Bind;
                if (bind.Length > 0 && !errors.HasFailed($"proxy.listener[{i}].bind") && !System.Net.IPEndPoint.TryParse(bind, out _))
                    errors.Add(listeners[i].TryGet("bind", out var entry) ? entry.KeyLocation : listeners[i].Location, $"proxy.listener[{i}].bind",
                        $"expected an IP address and port (0.0.0.0:5000, 10.0.0.100:5000, [::]:5000), found {TomlWriter.Quote(bind)}: a listener binds an address, not a name");
            }
        }

        var backends = Tables(tree, "proxy.backend");
        if (backends.Count != proxy.Backend.Count)
            return;
        Unique(proxy.Backend, b => b.Name, backends, "proxy.backend", "name", "backend name", errors);
        if (proxy.Discovery != "static" || proxy.Listener.Count == 0 || errors.HasFailed("proxy.discovery"))
            return;
        if (proxy.Backend.Count == 0)
            errors.Add(tree.Find("proxy.discovery")?.KeyLocation ?? lastFile with { Line = 0, Column = 0 }, "proxy.backend",
                "expected at least one [[proxy.backend]] with discovery = \"static\": without etcd the proxy knows servers only from this list");
        for (var i = 0; i < proxy.Backend.Count; i++)
        {
            var b = proxy.Backend[i];
            var at = backends[i].TryGet("name", out var entry) ? entry.KeyLocation : backends[i].Location;
            if (b.Address is null && !errors.HasFailed($"proxy.backend[{i}].address"))
                errors.Add(at, $"proxy.backend[{i}].address", $"expected an address (host:port) for backend {TomlWriter.Quote(b.Name)}: with discovery = \"static\" nothing else says where it is");
            if (b.Api is null && proxy.Check.Type == "http" && !errors.HasFailed($"proxy.backend[{i}].api"))
                errors.Add(at, $"proxy.backend[{i}].api", $"expected api (http://host:port of its REST API) for backend {TomlWriter.Quote(b.Name)}: the http check asks it, and static discovery has no member key to learn it from");
        }
    }

    private static List<TomlTableNode> Tables(TomlTableNode tree, string path) =>
        tree.Find(path)?.Value is TomlArray array ? [.. array.Items.OfType<TomlTableNode>()] : [];

    private static void Unique<T>(IReadOnlyList<T> items, Func<T, string> key, List<TomlTableNode> tables, string path, string field, string what, ErrorList errors)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var value = key(items[i]);
            if (value.Length == 0 || seen.TryAdd(value, i))
                continue;
            var at = tables[i].TryGet(field, out var entry) ? entry.KeyLocation : tables[i].Location;
            errors.Add(at, $"{path}[{i}].{field}", $"expected a unique {what}, found {TomlWriter.Quote(value)} again ({path}[{seen[value]}] has it)");
        }
    }
}
