using System.Text.Json;
using Appliance.Cluster;
using Appliance.Etcd;
using Mvccpb;

using Appliance.Simulator.World;

namespace Appliance.Simulator.Models;

/// <summary>How the simulated store writes the leader key on renewal.</summary>
public enum LeaderRenewal
{
    /// <summary>Ours: a keepalive, then a compare that the key still names this node on this lease.</summary>
    Conditional,
    /// <summary>Patroni 3.0.2's: keepalive (or a new lease), then an unconditional put of the key. Kept to prove the simulator finds its split brain.</summary>
    UnconditionalPut,
}

/// <summary>
/// <see cref="IClusterStore"/> over <see cref="SimEtcd"/>, with the real store's semantics (the same
/// compares and read-backs, one lease per node, a new lease after expiry) and the real client's behaviour
/// on the network (EtcdEndpoints): a call goes to the member that answered last; a request travels, is
/// applied at the member (even when the caller has given up meanwhile), and its answer travels back; a
/// refused member is skipped at once; a member that does not answer within the attempt's bound (1 s, one
/// more second each further round) is left for the next one, with a short pause after each round.
/// </summary>
public sealed class SimStore : IClusterStore
{
    /// <summary>The real client's bound on one attempt (EtcdEndpoints.DefaultAttemptTimeout).</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(1);
    /// <summary>The real client's pause after a round in which no endpoint answered.</summary>
    static readonly TimeSpan RoundPause = TimeSpan.FromMilliseconds(100);

    readonly SimWorld _world;
    readonly SimEtcd _etcd;
    readonly string _host;
    readonly int _ttl;
    readonly LeaderRenewal _renewal;
    readonly TimeProvider _time;
    readonly EtcdKeys _keys;
    int _preferred;
    long _lease;
    bool _changed;
    TaskCompletionSource? _waiter;
    string? _leaderSeen;
    (string Value, long Lease)? _ownMemberSeen;
    bool _disposed;

    public SimStore(SimWorld world, string host, string member, int ttl, LeaderRenewal renewal, TimeProvider time)
    {
        _world = world;
        _etcd = world.Etcd;
        _host = host;
        MemberName = member;
        _ttl = ttl;
        _renewal = renewal;
        _time = time;
        _keys = world.Keys;
        _etcd.Watch(OnChange);
    }

    public string MemberName { get; }
    public long LeaseId => _lease;

    string Leader => _keys.Leader;
    string MemberKey => _keys.Member(MemberName);

    // ---- the client's network behaviour ---------------------------------------------------------

    /// <summary>One call, attempted member after member as the real client does, until one answers or <paramref name="ct"/> ends.</summary>
    async Task<T> CallAsync<T>(Func<T> apply, CancellationToken ct)
    {
        var members = _etcd.Members;
        var start = _preferred;
        for (var attempt = 0; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            ObjectDisposedException.ThrowIf(_disposed, this);
            var i = (start + attempt) % members.Count;
            var m = members[i];
            // Refused (the process is gone but its host answers): the next member at once.
            if (!(m.Down && _world.Network.Connected(_host, m.Host)))
            {
                using var bound = new CancellationTokenSource(AttemptTimeout * (1 + attempt / members.Count), _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, bound.Token);
                try
                {
                    var r = await AttemptAsync(m, apply, linked.Token);
                    _preferred = i;
                    return r;
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                }
            }
            if ((attempt + 1) % members.Count == 0) await Task.Delay(RoundPause, _time, ct);
        }
    }

    /// <summary>One request to <paramref name="m"/>: <paramref name="apply"/> runs atomically there when (and if) it reaches a member that can serve it.</summary>
    async Task<T> AttemptAsync<T>(SimEtcd.Member m, Func<T> apply, CancellationToken ct)
    {
        var answer = new TaskCompletionSource<T>();
        var net = _world.Network;
        _world.Loop.At(net.Latency(_host, m.Host), () =>
        {
            if (!net.Delivers(_host, m.Host) || net.EtcdClientCut(_host) || m.Down) return;
            void Serve()
            {
                if (!_etcd.CanServe(m)) return; // no leader to commit it: etcd holds it until the caller gives up
                Action reply;
                try
                {
                    var r = apply();
                    reply = () => answer.TrySetResult(r);
                }
                catch (Exception e)
                {
                    reply = () => answer.TrySetException(e);
                }
                _world.Loop.At(net.Latency(m.Host, _host), () =>
                {
                    if (!net.Delivers(m.Host, _host) || net.EtcdClientCut(_host)) return;
                    reply();
                });
            }
            if (m.Frozen) m.Backlog.Add(Serve);
            else Serve();
        });
        using var cancel = ct.Register(() => answer.TrySetCanceled(ct));
        return await answer.Task;
    }

    // ---- IClusterStore ------------------------------------------------------------------------------

    public async Task<ClusterSnapshot> LoadAsync(CancellationToken ct)
    {
        var (revision, kvs) = await CallAsync(() => (_etcd.Revision, _etcd.Range(_keys.Prefix).ToList()), ct);
        var snapshot = ClusterKeysParser.Parse(_keys, revision, kvs, null);
        _ownMemberSeen = kvs.FirstOrDefault(k => k.Key.ToStringUtf8() == MemberKey) is { } own ? (own.Value.ToStringUtf8(), own.Lease) : null;
        _leaderSeen = snapshot.Leader?.Name;
        return snapshot;
    }

    public Task<bool> TryStartInitializeAsync(CancellationToken ct)
        => WithLeaseAsync(lease => CallAsync(() => _etcd.Get(_keys.Initialize) is not { } kv
            ? _etcd.Put(_keys.Initialize, "", lease) > 0
            : kv.Lease == lease && kv.Value.IsEmpty, ct), ct);

    public Task<bool> CompleteInitializeAsync(string systemId, CancellationToken ct)
    {
        var lease = _lease;
        return CallAsync(() => _etcd.Get(_keys.Initialize) is { } kv
            && (kv.Value.IsEmpty && kv.Lease == lease ? _etcd.Put(_keys.Initialize, systemId) > 0 : kv.Value.ToStringUtf8() == systemId), ct);
    }

    public Task<bool> AbandonInitializeAsync(CancellationToken ct)
        => CallAsync(() => _etcd.Get(_keys.Initialize) is { } kv && kv.Value.IsEmpty && _etcd.Delete(_keys.Initialize), ct);

    public async Task<bool> TryAcquireLeaderAsync(CancellationToken ct)
    {
        var won = await WithLeaseAsync(lease => CallAsync(() => _etcd.Get(Leader) is not { } kv
            ? _etcd.Put(Leader, MemberName, lease) > 0
            : IsOurs(kv, lease), ct), ct);
        if (won) _leaderSeen = MemberName;
        return won;
    }

    public async Task<bool> RenewLeaderAsync(CancellationToken ct)
    {
        if (_renewal == LeaderRenewal.UnconditionalPut)
        {
            // Patroni 3.0.2's _update_leader: a live lease (a new one if it expired), then the key is put, whoever holds it.
            await WithLeaseAsync(lease => CallAsync(() => _etcd.Put(Leader, MemberName, lease) > 0, ct), ct);
            return true;
        }
        var id = _lease;
        if (id == 0) return false;
        if (!await CallAsync(() => _etcd.KeepAlive(id), ct))
        {
            if (_lease == id) _lease = 0;
            return false;
        }
        return await CallAsync(() => _etcd.Get(Leader) is { } kv && kv.Value.ToStringUtf8() == MemberName && kv.Lease == id, ct);
    }

    public async Task<bool> TakeOverLeaderAsync(LeaderLock seen, CancellationToken ct)
    {
        var won = await WithLeaseAsync(lease => CallAsync(() => _etcd.Get(Leader) is { } kv
            && (kv.Value.ToStringUtf8() == MemberName && kv.ModRevision == seen.ModRevision ? _etcd.Put(Leader, MemberName, lease) > 0 : IsOurs(kv, lease)), ct), ct);
        if (won) _leaderSeen = MemberName;
        return won;
    }

    public Task<bool> ReleaseLeaderAsync(CancellationToken ct)
        => CallAsync(() => _etcd.Get(Leader) is { } kv && kv.Value.ToStringUtf8() == MemberName && _etcd.Delete(Leader), ct);

    public Task TouchMemberAsync(MemberData data, CancellationToken ct)
    {
        var json = data.ToJson();
        return WithLeaseAsync(async lease =>
        {
            if (_ownMemberSeen is { } seen && seen.Lease == lease && seen.Value == json) return true;
            await CallAsync(() => _etcd.Put(MemberKey, json, lease), ct);
            return true;
        }, ct);
    }

    public async Task DeleteMemberAsync(CancellationToken ct)
    {
        await CallAsync(() => _etcd.Delete(MemberKey), ct);
        _ownMemberSeen = null;
    }

    public Task<bool> InitializeConfigAsync(string json, CancellationToken ct)
        => CallAsync(() => _etcd.Get(_keys.Config) is null && _etcd.Put(_keys.Config, json) > 0, ct);

    public Task<bool> WriteConfigAsync(string json, long expectedVersion, CancellationToken ct)
        => CallAsync(() => WriteIf(_keys.Config, expectedVersion, json), ct);

    public Task<bool> WriteFailoverAsync(string json, long expectedVersion, CancellationToken ct)
        => CallAsync(() => WriteIf(_keys.Failover, expectedVersion, json), ct);

    public async Task<bool> ClearFailoverAsync(long expectedVersion, CancellationToken ct)
        => expectedVersion != 0 && await CallAsync(() => DeleteIf(_keys.Failover, expectedVersion), ct);

    public Task<long?> WriteSyncAsync(string json, long expectedVersion, CancellationToken ct)
        => CallAsync<long?>(() => VersionIs(_keys.Sync, expectedVersion) && _etcd.Get(Leader)?.Value.ToStringUtf8() == MemberName
            ? _etcd.Put(_keys.Sync, json)
            : _etcd.Get(_keys.Sync) is { } kv && kv.Value.ToStringUtf8() == json && kv.ModRevision > expectedVersion ? kv.ModRevision : null, ct);

    public async Task<bool> DeleteSyncAsync(long expectedVersion, CancellationToken ct)
        => expectedVersion != 0 && await CallAsync(() => DeleteIf(_keys.Sync, expectedVersion), ct);

    public Task WriteHistoryAsync(string json, CancellationToken ct) => CallAsync(() => _etcd.Put(_keys.History, json), ct);

    public Task WriteStatusAsync(long optime, CancellationToken ct)
        => CallAsync(() => _etcd.Put(_keys.Status, JsonSerializer.Serialize(new StatusData(optime), ClusterJson.Default.StatusData)), ct);

    public async Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (_changed)
        {
            _changed = false;
            return true;
        }
        var waiter = _waiter = new TaskCompletionSource();
        try
        {
            await waiter.Task.WaitAsync(timeout, _time, ct);
            _changed = false;
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        return ValueTask.CompletedTask;
    }

    /// <summary>The agent died: its watch and its calls end with it.</summary>
    public void Kill()
    {
        _disposed = true;
        _waiter?.TrySetCanceled();
    }

    bool IsOurs(KeyValue kv, long lease) => kv.Lease == lease && kv.Value.ToStringUtf8() == MemberName;

    /// <summary>The real store's WriteIfAsync: put over <paramref name="version"/>, or find the same value written after it.</summary>
    bool WriteIf(string key, long version, string json) => VersionIs(key, version)
        ? _etcd.Put(key, json) > 0
        : _etcd.Get(key) is { } kv && kv.Value.ToStringUtf8() == json && kv.ModRevision > version;

    /// <summary>The real store's DeleteIfAsync: delete at <paramref name="version"/>, or find the key gone.</summary>
    bool DeleteIf(string key, long version) => VersionIs(key, version) ? _etcd.Delete(key) : _etcd.Get(key) is null;

    bool VersionIs(string key, long version) => version == 0 ? _etcd.Get(key) is null : _etcd.Get(key)?.ModRevision == version;

    async Task<bool> WithLeaseAsync(Func<long, Task<bool>> write, CancellationToken ct)
    {
        var lease = await RefreshLeaseAsync(ct);
        try
        {
            return await write(lease);
        }
        catch (LeaseNotFoundException)
        {
            if (_lease == lease) _lease = 0;
            return await write(await RefreshLeaseAsync(ct));
        }
    }

    async Task<long> RefreshLeaseAsync(CancellationToken ct)
    {
        var lease = _lease;
        if (lease != 0)
        {
            if (await CallAsync(() => _etcd.KeepAlive(lease), ct)) return lease;
            if (_lease == lease) _lease = 0;
        }
        var granted = await CallAsync(() => _etcd.Grant(_ttl), ct);
        _lease = granted;
        return granted;
    }

    /// <summary>The watch (as the real store's <c>Wakes</c>): delivered while this host reaches a member that serves.</summary>
    void OnChange(string key, string? old, string? value)
    {
        if (_disposed || old == value) return;
        var name = key[_keys.Prefix.Length..];
        if (name == EtcdKeys.LeaderName) _leaderSeen = value;
        bool wakes = name switch
        {
            EtcdKeys.LeaderName or EtcdKeys.ConfigName or EtcdKeys.FailoverName or EtcdKeys.InitializeName or EtcdKeys.SyncName => true,
            EtcdKeys.StatusName => _leaderSeen != MemberName,
            _ => (value is null || old is null) && name.StartsWith(EtcdKeys.MembersDir, StringComparison.Ordinal) && _leaderSeen == MemberName,
        };
        if (!wakes || _world.Network.EtcdClientCut(_host)) return;
        if (!_etcd.Members.Any(m => _etcd.CanServe(m) && _world.Network.Connected(_host, m.Host))) return;
        _world.Loop.At(SimNetwork.BaseLatency, () =>
        {
            _changed = true;
            _waiter?.TrySetResult();
        });
    }
}
