using System.Net;

namespace Appliance.Proxy;

/// <summary>How a pool spreads new clients over its servers (<c>[[proxy.listener]] balance</c>).</summary>
public enum BalanceAlgorithm
{
    /// <summary>Smooth weighted round robin (nginx's): each server gets its weight's share, interleaved, not in bursts.</summary>
    RoundRobin,
    /// <summary>Fewest sessions relative to weight; ties go round robin.</summary>
    LeastConn,
    /// <summary>A hash of the client's address over the weighted list: a client keeps its server while the list is unchanged.</summary>
    Source,
}

/// <summary>A server a new client may be sent to, as the picker sees it.</summary>
/// <param name="Name">The server's name (the round-robin state is kept by name).</param>
/// <param name="Weight">0-256; 0 takes no new clients.</param>
/// <param name="Sessions">Sessions it holds now (in this pool).</param>
/// <param name="Maxconn">Sessions it may hold at once; 0 = no limit.</param>
public readonly record struct PickCandidate(string Name, int Weight, long Sessions, int Maxconn)
{
    /// <summary>May take one more client now.</summary>
    public bool Available => Weight > 0 && (Maxconn <= 0 || Sessions < Maxconn);
}

/// <summary>
/// Picks a server for a new client, pure: no clock, no I/O, no randomness. The only state is the
/// round-robin counters, kept here by server name, so one picker serves one pool and is not thread-safe
/// (the pool calls it under its lock).
/// </summary>
public sealed class ServerPicker(BalanceAlgorithm algorithm)
{
    // Smooth weighted round robin: every pick adds each candidate's weight to its counter, takes the
    // largest and subtracts the total from it. Over sum(weights) picks each server is chosen weight times.
    readonly Dictionary<string, long> _current = new(StringComparer.Ordinal);

    public BalanceAlgorithm Algorithm { get; } = algorithm;

    /// <summary>Parses <c>balance</c>: <c>roundrobin</c>, <c>leastconn</c>, <c>source</c>.</summary>
    public static BalanceAlgorithm Parse(string balance) => balance switch
    {
        "roundrobin" => BalanceAlgorithm.RoundRobin,
        "leastconn" => BalanceAlgorithm.LeastConn,
        "source" => BalanceAlgorithm.Source,
        _ => throw new ArgumentException($"balance: '{balance}' is not roundrobin, leastconn or source", nameof(balance)),
    };

    /// <summary>The index in <paramref name="candidates"/> of the server for a client from <paramref name="client"/>, or null when none may take one (all full or weight 0).</summary>
    public int? Pick(IReadOnlyList<PickCandidate> candidates, IPAddress? client)
    {
        var picked = Algorithm switch
        {
            BalanceAlgorithm.LeastConn => LeastConn(candidates),
            BalanceAlgorithm.Source => Source(candidates, client),
            _ => RoundRobin(candidates, static _ => true),
        };
        if (_current.Count > 2 * candidates.Count + 8) Forget(candidates);
        return picked;
    }

    int? RoundRobin(IReadOnlyList<PickCandidate> candidates, Func<int, bool> among)
    {
        long total = 0;
        int? best = null;
        long bestCurrent = long.MinValue;
        for (var i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            if (!c.Available || !among(i)) continue;
            var current = _current.GetValueOrDefault(c.Name) + c.Weight;
            _current[c.Name] = current;
            total += c.Weight;
            if (current > bestCurrent) (best, bestCurrent) = (i, current);
        }
        if (best is int b) _current[candidates[b].Name] = bestCurrent - total;
        return best;
    }

    int? LeastConn(IReadOnlyList<PickCandidate> candidates)
    {
        int? least = null;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (!candidates[i].Available) continue;
            if (least is not int l || Load(candidates[i], candidates[l]) < 0) least = i;
        }
        if (least is not int min) return null;
        // Ties (often: every server idle) go round robin among the tied, so they fill evenly.
        var lowest = candidates[min];
        return RoundRobin(candidates, i => Load(candidates[i], lowest) == 0);
    }

    /// <summary>Compares sessions/weight without division: a.S/a.W vs b.S/b.W.</summary>
    static int Load(PickCandidate a, PickCandidate b) => (a.Sessions * b.Weight).CompareTo(b.Sessions * a.Weight);

    static int? Source(IReadOnlyList<PickCandidate> candidates, IPAddress? client)
    {
        // HAProxy's map-based hash: the address picks a slot in the list where each server holds weight
        // slots. Full servers keep their slots (so a client's server does not move as others fill up);
        // a client whose server is full takes the next server with room.
        long total = 0;
        foreach (var c in candidates) total += Math.Max(c.Weight, 0);
        if (total == 0) return null;
        var slot = (long)(Hash(client) % (ulong)total);
        var start = 0;
        for (; start < candidates.Count; start++)
        {
            var w = Math.Max(candidates[start].Weight, 0);
            if (slot < w) break;
            slot -= w;
        }
        for (var k = 0; k < candidates.Count; k++)
        {
            var i = (start + k) % candidates.Count;
            if (candidates[i].Available) return i;
        }
        return null;
    }

    /// <summary>FNV-1a over the address bytes: stable across processes (string.GetHashCode is randomized per process).</summary>
    static ulong Hash(IPAddress? client)
    {
        Span<byte> bytes = stackalloc byte[16];
        var address = client is null ? IPAddress.Any : client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        if (!address.TryWriteBytes(bytes, out var n)) n = 0;
        var h = 14695981039346656037UL;
        foreach (var b in bytes[..n]) h = (h ^ b) * 1099511628211UL;
        // Mix the high bits down: the modulo of a small total would otherwise see only the last byte's effect.
        return h ^ (h >> 29);
    }

    void Forget(IReadOnlyList<PickCandidate> candidates)
    {
        var keep = candidates.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in _current.Keys.Where(n => !keep.Contains(n)).ToList()) _current.Remove(name);
    }
}
