using System.Net;
using Appliance.Lab.Netns;

namespace Appliance.Lab.NetLab;

/// <summary>
/// Loopback ports on the host that lead into the lab: each is a <see cref="TcpRelay"/> whose upstream
/// socket is created inside a node's namespace, so a program on the host (psql, appliancectl, curl, the
/// tests' clients) reaches a service there without any address of the lab existing on the host.
/// Keys are "db1.pg", "db1.api", "db1.etcd", "lb1.status", "vip.primary", "vip.replica".
/// </summary>
public sealed class LabForwards : IAsyncDisposable
{
    readonly Dictionary<string, TcpRelay> _relays = [];

    /// <summary>Opens a forward from a loopback port to <paramref name="target"/> as seen from namespace <paramref name="netns"/>.</summary>
    public int Add(string key, string netns, IPAddress target, int port)
    {
        var relay = new TcpRelay(new IPEndPoint(target, port), () => NetnsSocket.Create(netns));
        _relays[key] = relay;
        return relay.Port;
    }

    /// <summary>The loopback port of <paramref name="key"/>.</summary>
    public int this[string key] => _relays.TryGetValue(key, out var r) ? r.Port
        : throw new ArgumentException($"no forward '{key}' (there are: {string.Join(", ", _relays.Keys)})");

    public IReadOnlyDictionary<string, int> Ports => _relays.ToDictionary(r => r.Key, r => r.Value.Port);

    public async ValueTask DisposeAsync()
    {
        foreach (var r in _relays.Values) await r.DisposeAsync();
        _relays.Clear();
    }
}
