using System.Globalization;
using Appliance.Balancer.Proxy.Checks;
using Appliance.Cluster;
using Appliance.Configuration;
using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Routing;

/// <summary>
/// Which servers the proxy knows and how to check them: the configured <c>[[proxy.backend]]</c> entries,
/// and with etcd discovery every member a snapshot has shown (its <c>conn_url</c> and <c>api_url</c> win
/// over the configured address and api). Members are remembered after their key goes: without etcd the
/// checks of every known server are the backstop. Not thread-safe (the router's lock guards it).
/// </summary>
public sealed class BackendDiscovery
{
    readonly Dictionary<string, CheckTarget> _configured = new(StringComparer.Ordinal);
    readonly SortedDictionary<string, CheckTarget> _known = new(StringComparer.Ordinal);

    public BackendDiscovery(IEnumerable<ProxyBackendSection> backends)
    {
        foreach (var b in backends)
        {
            if (b.Address is { } address && ParseHostPort(address) is var (host, port))
                _configured[b.Name] = new CheckTarget(new Backend(b.Name, host, port), ApiBase(b.Api));
        }
        foreach (var (name, target) in _configured) _known[name] = target;
    }

    /// <summary>Every server known now, by name.</summary>
    public IReadOnlyCollection<CheckTarget> Targets => _known.Values;

    public IReadOnlyCollection<Backend> Backends => [.. _known.Values.Select(t => t.Backend)];

    /// <summary>Takes in the members of <paramref name="snapshot"/>; true when the set of targets changed.</summary>
    public bool Learn(ClusterSnapshot snapshot)
    {
        var changed = false;
        foreach (var m in snapshot.Members)
        {
            if (m.PostgresEndpoint is not var (host, port)) continue;
            _configured.TryGetValue(m.Name, out var configured);
            var target = new CheckTarget(new Backend(m.Name, host, port), ApiBase(m.Data.ApiUrl) ?? configured?.ApiUrl);
            if (_known.TryGetValue(m.Name, out var old) && old == target) continue;
            _known[m.Name] = target;
            changed = true;
        }
        return changed;
    }

    /// <summary><c>host:port</c>, <c>[v6]:port</c>; null when it is not one.</summary>
    public static (string Host, int Port)? ParseHostPort(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535) return null;
        var host = address[..colon].Trim('[', ']');
        return host.Length == 0 ? null : (host, port);
    }

    /// <summary>A member's <c>api_url</c> is <c>http://host:8008/patroni</c>; the checks want the API's root.</summary>
    static string? ApiBase(string? api)
        => !string.IsNullOrEmpty(api) && Uri.TryCreate(api, UriKind.Absolute, out var u) ? u.GetLeftPart(UriPartial.Authority) : null;
}
