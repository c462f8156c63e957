using Google.Protobuf;
using Mvccpb;

using Appliance.Simulator.World;

namespace Appliance.Simulator.Models;

/// <summary>A request etcd refused: the lease it names is gone (what the real store sees as NotFound "lease not found").</summary>
public sealed class LeaseNotFoundException() : Exception("etcdserver: requested lease not found");

/// <summary>
/// etcd 3 as the agents see it: keys with create/mod revisions, one revision per write, leases that expire
/// on the virtual clock (only while a Raft leader exists: a new leader restarts every lease at its full TTL,
/// as etcd does), compare-and-swap done by the caller's closure atomically, and change notifications.
/// Members live on the database hosts; one that is down, frozen or cut off from the majority cannot serve,
/// and losing the leader costs an election timeout.
/// </summary>
public sealed class SimEtcd(SimWorld world, IReadOnlyList<string> hosts)
{
    public static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(1);

    public sealed class Member(string host)
    {
        public string Host { get; } = host;
        /// <summary>The etcd process was killed (its host may still be up: connections are refused).</summary>
        public bool Down { get; set; }
        public bool Frozen { get; set; }
        /// <summary>Requests that reached a frozen member: served in order when it thaws.</summary>
        public List<Action> Backlog { get; } = [];
    }

    readonly SortedDictionary<string, KeyValue> _kv = new(StringComparer.Ordinal);
    readonly Dictionary<long, (long Ttl, TimeSpan ExpiresAt)> _leases = [];
    readonly List<Action<string, string?, string?>> _watchers = [];
    long _nextLease = 0x694d_0000;
    DateTimeOffset? _electionSince;

    public IReadOnlyList<Member> Members { get; } = [.. hosts.Select(h => new Member(h))];
    public long Revision { get; private set; } = 1;
    public int Leader { get; private set; }

    TimeSpan Now => world.Loop.Time.Elapsed;
    int Majority => Members.Count / 2 + 1;

    public bool Healthy(Member m) => !m.Down && !m.Frozen && !world.Network.IsDown(m.Host);

    int Reaches(Member m) => Members.Count(o => Healthy(o) && (o == m || world.Network.Connected(m.Host, o.Host)));

    public bool HasLeader => Leader >= 0 && Healthy(Members[Leader]) && Reaches(Members[Leader]) >= Majority;

    /// <summary>The member can answer a linearizable request now.</summary>
    public bool CanServe(Member m) => Healthy(m) && HasLeader && (Members[Leader] == m || world.Network.Connected(m.Host, Members[Leader].Host));

    /// <summary>Raft and the lessor, every 100 ms: elections after a lost leader, lease expiry while a leader exists.</summary>
    public void Tick()
    {
        if (!HasLeader)
        {
            _electionSince ??= world.Loop.Time.GetUtcNow();
            if (world.Loop.Time.GetUtcNow() - _electionSince < ElectionTimeout) return;
            var candidate = Members.Select((m, i) => (m, i)).FirstOrDefault(x => Healthy(x.m) && Reaches(x.m) >= Majority);
            if (candidate.m is null) return;
            Leader = candidate.i;
            _electionSince = null;
            world.Trace("etcd", $"etcd leader is now the member on {candidate.m.Host}: every lease restarts at its full TTL");
            foreach (var id in _leases.Keys.ToList()) _leases[id] = (_leases[id].Ttl, Now + TimeSpan.FromSeconds(_leases[id].Ttl));
            return;
        }
        _electionSince = null;
        foreach (var (id, lease) in _leases.ToList())
        {
            if (lease.ExpiresAt > Now) continue;
            _leases.Remove(id);
            foreach (var kv in _kv.Values.Where(k => k.Lease == id).ToList())
            {
                world.Trace("etcd", $"lease {id:x} expired: {world.ShortKey(kv.Key.ToStringUtf8())} deleted");
                Delete(kv.Key.ToStringUtf8());
            }
        }
    }

    /// <summary>A member thawed: it serves what queued up meanwhile (late, the way a SIGCONT'ed process does).</summary>
    public void Thaw(Member m)
    {
        m.Frozen = false;
        var backlog = m.Backlog.ToList();
        m.Backlog.Clear();
        foreach (var a in backlog) a();
    }

    public void Watch(Action<string, string?, string?> onChange) => _watchers.Add(onChange);

    // ---- the operations the store's closures use (atomic: the loop runs one at a time) -------------

    public KeyValue? Get(string key) => _kv.GetValueOrDefault(key);
    public IEnumerable<KeyValue> Range(string prefix) => _kv.Values.Where(kv => kv.Key.ToStringUtf8().StartsWith(prefix, StringComparison.Ordinal)).Select(kv => kv.Clone()).ToList();

    public long Put(string key, string value, long lease = 0)
    {
        if (lease != 0 && !_leases.ContainsKey(lease)) throw new LeaseNotFoundException();
        var old = _kv.GetValueOrDefault(key);
        Revision++;
        _kv[key] = new KeyValue
        {
            Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), Lease = lease,
            CreateRevision = old?.CreateRevision ?? Revision, ModRevision = Revision, Version = (old?.Version ?? 0) + 1,
        };
        Notify(key, old?.Value.ToStringUtf8(), value);
        return Revision;
    }

    public bool Delete(string key)
    {
        if (!_kv.Remove(key, out var old)) return false;
        Revision++;
        Notify(key, old.Value.ToStringUtf8(), null);
        return true;
    }

    public long Grant(long ttl)
    {
        var id = _nextLease++;
        _leases[id] = (ttl, Now + TimeSpan.FromSeconds(ttl));
        return id;
    }

    /// <summary>False when etcd no longer knows the lease.</summary>
    public bool KeepAlive(long id)
    {
        if (!_leases.TryGetValue(id, out var l)) return false;
        _leases[id] = (l.Ttl, Now + TimeSpan.FromSeconds(l.Ttl));
        return true;
    }

    void Notify(string key, string? old, string? value)
    {
        foreach (var w in _watchers) w(key, old, value);
    }
}
