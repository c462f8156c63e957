

namespace Appliance.Simulator.Models;

/// <summary>
/// The network between hosts (db1..dbN, and "client"): per direction, a link is up, lost, or slow. A host that
/// is down reaches nobody. Latency is small and fixed per direction unless a fault slows it, so a seed replays.
/// </summary>
public sealed class SimNetwork
{
    /// <summary>The latency of a healthy link, one way.</summary>
    public static readonly TimeSpan BaseLatency = TimeSpan.FromMilliseconds(1);

    readonly HashSet<(string From, string To)> _lost = [];
    readonly Dictionary<(string From, string To), TimeSpan> _slow = [];
    readonly HashSet<string> _down = [];
    /// <summary>Pairs of hosts whose agents' REST API traffic is dropped (a firewall on port 8008), both ways.</summary>
    readonly HashSet<(string, string)> _apiCut = [];
    /// <summary>Hosts whose etcd client traffic is dropped (the etcd client port cut off), both ways.</summary>
    readonly HashSet<string> _etcdClientCut = [];

    public bool IsDown(string host) => _down.Contains(host);
    public void SetDown(string host, bool down)
    {
        if (down) _down.Add(host);
        else _down.Remove(host);
    }

    /// <summary>A packet from <paramref name="from"/> reaches <paramref name="to"/>.</summary>
    public bool Delivers(string from, string to)
        => from == to ? !_down.Contains(from) : !_down.Contains(from) && !_down.Contains(to) && !_lost.Contains((from, to));

    /// <summary>Both directions work: a request gets its answer.</summary>
    public bool Connected(string a, string b) => Delivers(a, b) && Delivers(b, a);

    public TimeSpan Latency(string from, string to)
        => from == to ? TimeSpan.Zero : BaseLatency + (_slow.TryGetValue((from, to), out var extra) ? extra : TimeSpan.Zero);

    public void Lose(string from, string to, bool lost)
    {
        if (lost) _lost.Add((from, to));
        else _lost.Remove((from, to));
    }

    /// <summary>Cuts <paramref name="host"/> off from every other host, both ways (or heals it).</summary>
    public void Isolate(string host, IEnumerable<string> others, bool isolated)
    {
        foreach (var o in others.Where(o => o != host))
        {
            Lose(host, o, isolated);
            Lose(o, host, isolated);
        }
    }

    public void Slow(string from, string to, TimeSpan extra)
    {
        if (extra <= TimeSpan.Zero) _slow.Remove((from, to));
        else _slow[(from, to)] = extra;
    }

    public bool EtcdClientCut(string host) => _etcdClientCut.Contains(host);
    public void CutEtcdClient(string host, bool cut)
    {
        if (cut) _etcdClientCut.Add(host);
        else _etcdClientCut.Remove(host);
    }

    /// <summary>The agents of <paramref name="a"/> and <paramref name="b"/> reach each other's REST API.</summary>
    public bool ApiConnected(string a, string b) => Connected(a, b) && !_apiCut.Contains((a, b)) && !_apiCut.Contains((b, a));
    public void CutApi(string a, string b, bool cut)
    {
        if (cut) _apiCut.Add((a, b));
        else { _apiCut.Remove((a, b)); _apiCut.Remove((b, a)); }
    }
}
