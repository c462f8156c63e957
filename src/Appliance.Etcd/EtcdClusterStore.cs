using System.Text.Json;
using Appliance.Cluster;
using Appliance.Configuration;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace Appliance.Etcd;

/// <summary>
/// The cluster store over etcd v3, laid out as Patroni 3 lays it out (see <see cref="EtcdKeys"/>), so
/// a Patroni node or patronictl sees the same cluster.
/// </summary>
/// <remarks>
/// <para>The node owns one lease with TTL = <c>ttl</c> (Patroni's <c>Etcd3._lease</c>). Its member key
/// and, while it leads, the leader key are put on it; when the node stops renewing, both vanish at once.
/// When etcd no longer knows the lease (it expired), the next write grants a new one; the leader key
/// died with the old lease, so leadership must be acquired again.</para>
/// <para>The leader key is only ever written by a compare-and-put that requires it to be absent: there
/// is no unconditional put of it anywhere (Patroni's <c>_update_leader</c> has one; we do not).</para>
/// <para>Every call goes through <see cref="EtcdEndpoints"/>: to the endpoint that answered last, each
/// attempt bounded, the next endpoint tried at once when one fails or gives no answer, so a frozen
/// member costs a call one attempt bound, not the caller's whole deadline.</para>
/// <para>A background prefix watch, started at creation and restarted (on the next endpoint) after any
/// failure from the revision it had reached, and after a silence: it asks etcd for progress every
/// attempt bound, and a watch that has answered nothing for <see cref="WatchSilentAttempts"/> of them
/// is on a member that hangs. It wakes <see cref="WaitForChangeAsync"/> on the changes Patroni's watcher wakes
/// its HA loop for (etcd3.py, <c>KVCache._process_event</c>): a change of the leader key's value, of
/// <c>config</c>, and of <c>status</c> when another node leads; and also of <c>failover</c>,
/// <c>initialize</c> and <c>sync</c>, so a switchover or a finished bootstrap is seen at once. Member
/// keys do not wake it: every node rewrites them every cycle.</para>
/// </remarks>
public sealed partial class EtcdClusterStore : IClusterStore
{
    private static readonly TimeSpan WatchRetryDelay = TimeSpan.FromSeconds(1);
    /// <summary>A watch that answers neither events nor progress requests for this many attempt bounds is restarted elsewhere.</summary>
    private const int WatchSilentAttempts = 3;

    private readonly EtcdEndpoints _endpoints;
    private readonly int _ttl;
    // One lease per node: the loop and a background action (bootstrap) may both need one at the same moment.
    private readonly SemaphoreSlim _leaseGate = new(1, 1);
    private readonly TimeProvider _time;
    private readonly ILogger? _log;
    private readonly ByteString _prefix;
    private readonly ByteString _prefixEnd;
    private readonly ByteString _leaderKey;
    private readonly ByteString _memberKey;
    private readonly ByteString _memberName;
    private readonly ChangeSignal _changes = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watchLoop;

    private long _lease;            // 0: none
    private long _lastLoadRevision; // revision of the last snapshot, where a restarted watch may resume
    private long _badMemberValues;
    private string? _leaderSeen;     // holder of the leader key as last seen (snapshot or watch)
    private (string Value, long Lease)? _ownMemberSeen; // this member's key in the last snapshot
    private int _disposed;
    private int _watching;

    private EtcdClusterStore(EtcdSection etcd, ClusterSection cluster, string memberName, int ttlSeconds, TimeProvider time, ILogger? log, TimeSpan? attemptTimeout)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(memberName);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttlSeconds, 2);
        Keys = new EtcdKeys(cluster.Namespace, cluster.Scope);
        MemberName = memberName;
        _ttl = ttlSeconds;
        _time = time;
        _log = log;
        _endpoints = EtcdEndpoints.Connect(etcd, attemptTimeout, time, log);
        _prefix = ByteString.CopyFromUtf8(Keys.Prefix);
        _prefixEnd = ByteString.CopyFrom(EtcdKeys.RangeEnd(_prefix.Span));
        _leaderKey = ByteString.CopyFromUtf8(Keys.Leader);
        _memberKey = ByteString.CopyFromUtf8(Keys.Member(memberName));
        _memberName = ByteString.CopyFromUtf8(memberName);
        _watchLoop = Task.Run(() => WatchLoopAsync(_stop.Token));
    }

    /// <summary>
    /// A store for <paramref name="memberName"/> in the cluster <c>cluster.scope</c>, talking to
    /// <c>etcd.endpoints</c>. Connects lazily; starts the prefix watch at once.
    /// </summary>
    /// <param name="etcd">Endpoints, TLS files and credentials.</param>
    /// <param name="cluster">Scope and namespace: the keys live under <c>/namespace/scope/</c>.</param>
    /// <param name="memberName">This node's name: its member key and the leader key's value when it leads.</param>
    /// <param name="ttlSeconds">The lease TTL (Patroni's <c>ttl</c>).</param>
    /// <param name="time">The clock the watch's retry pauses and <see cref="WaitForChangeAsync"/>'s timeout run on.</param>
    /// <param name="log">Where lease losses, skipped member values, endpoint switches and watch restarts are reported; none when null.</param>
    /// <param name="attemptTimeout">
    /// How long one attempt on one endpoint may take before the next endpoint is tried (default
    /// <see cref="EtcdEndpoints.DefaultAttemptTimeout"/>, 1 s). Patroni's rule is <c>retry_timeout</c> divided by
    /// the number of endpoints, at least 1 s: a leader's renewal then survives one member that hangs.
    /// </param>
    public static EtcdClusterStore Create(EtcdSection etcd, ClusterSection cluster, string memberName, int ttlSeconds, TimeProvider time,
        ILogger? log = null, TimeSpan? attemptTimeout = null)
        => new(etcd, cluster, memberName, ttlSeconds, time, log, attemptTimeout);

    public string MemberName { get; }
    /// <summary>The key schema of this cluster.</summary>
    public EtcdKeys Keys { get; }
    /// <summary>The lease this node's keys hang on, 0 when it has none (none granted yet, or it expired).</summary>
    public long LeaseId => Volatile.Read(ref _lease);
    /// <summary>Member keys that <see cref="LoadAsync"/> skipped because their value was not a member's JSON (a counter).</summary>
    public long BadMemberValues => Interlocked.Read(ref _badMemberValues);
    /// <summary>True while the prefix watch is registered with etcd (false before it is, and after it failed until it is again).</summary>
    public bool IsWatching => Volatile.Read(ref _watching) == 1;

    public async Task<ClusterSnapshot> LoadAsync(CancellationToken ct)
    {
        var r = await _endpoints.CallAsync((e, t) => e.Client.GetAsync(new RangeRequest { Key = _prefix, RangeEnd = _prefixEnd }, cancellationToken: t), ct);
        var revision = r.Header.Revision;
        var snapshot = ClusterKeysParser.Parse(Keys, revision, r.Kvs, key =>
        {
            Interlocked.Increment(ref _badMemberValues);
            if (_log is not null) LogBadMember(_log, key);
        });
        (string, long)? ownMember = null;
        foreach (var kv in r.Kvs)
        {
            if (kv.Key.Equals(_memberKey)) ownMember = (kv.Value.ToStringUtf8(), kv.Lease);
        }
        Volatile.Write(ref _lastLoadRevision, revision);
        Volatile.Write(ref _leaderSeen, snapshot.Leader?.Name);
        _ownMemberSeen = ownMember;
        return snapshot;
    }

    /// <summary>
    /// The "" claim hangs on this node's lease: if the winner dies during initdb the claim expires with it
    /// and another node can bootstrap, instead of every node waiting for ever.
    /// </summary>
    public Task<bool> TryStartInitializeAsync(CancellationToken ct)
        => WithLeaseAsync(async lease =>
        {
            var key = ByteString.CopyFromUtf8(Keys.Initialize);
            return (await CasAsync([Absent(key)], [PutOp(key, ByteString.Empty, lease)], key,
                kv => kv.Lease == lease && kv.Value.IsEmpty, ct)).Succeeded;
        }, ct);

    /// <summary>Only our own claim: if it expired and another node claimed since, its initdb wins, not ours.</summary>
    public async Task<bool> CompleteInitializeAsync(string systemId, CancellationToken ct)
    {
        var key = ByteString.CopyFromUtf8(Keys.Initialize);
        var value = ByteString.CopyFromUtf8(systemId);
        return (await CasAsync([ValueIs(key, ByteString.Empty), LeaseIs(key, LeaseId)], [PutOp(key, value, 0)], key,
            kv => kv.Value.Equals(value), ct)).Succeeded;
    }

    public async Task<bool> AbandonInitializeAsync(CancellationToken ct)
        => (await TxnAsync(ValueIs(Keys.Initialize, ""), Delete(Keys.Initialize), ct)).Succeeded;

    public Task<bool> TryAcquireLeaderAsync(CancellationToken ct)
        => WithLeaseAsync(async lease =>
        {
            var won = (await CasAsync([Absent(_leaderKey)], [PutOp(_leaderKey, _memberName, lease)], _leaderKey,
                kv => IsOurs(kv, lease), ct)).Succeeded;
            if (won) Volatile.Write(ref _leaderSeen, MemberName);
            return won;
        }, ct);

    public async Task<bool> RenewLeaderAsync(CancellationToken ct)
    {
        var lease = LeaseId;
        if (lease == 0) return false;
        if (!await KeepAliveOnceAsync(lease, ct))
        {
            // The lease expired, and the leader key with it.
            Interlocked.CompareExchange(ref _lease, 0, lease);
            if (_log is not null) LogLeaseLost(_log, lease);
            return false;
        }
        // Read-only: etcd serves it as a linearizable read, and repeating it changes nothing.
        var compare = new[] { ValueIs(_leaderKey, _memberName), LeaseIs(_leaderKey, lease) };
        var r = await TxnAsync(compare, [new RequestOp { RequestRange = new RangeRequest { Key = _leaderKey, CountOnly = true } }], ct);
        return r.Succeeded;
    }

    public Task<bool> TakeOverLeaderAsync(LeaderLock seen, CancellationToken ct)
        => WithLeaseAsync(async lease =>
        {
            var compare = new[] { ValueIs(_leaderKey, _memberName), ModRevisionIs(_leaderKey, seen.ModRevision) };
            // The key was on an earlier run's lease: on ours now, it can only be this write.
            var won = (await CasAsync(compare, [PutOp(_leaderKey, _memberName, lease)], _leaderKey, kv => IsOurs(kv, lease), ct)).Succeeded;
            if (won) Volatile.Write(ref _leaderSeen, MemberName);
            return won;
        }, ct);

    /// <remarks>
    /// A conditional delete repeated after its first attempt was applied answers false: the key is
    /// gone (as asked) but no longer compares. Callers only log the answer; the next snapshot shows the truth.
    /// </remarks>
    public async Task<bool> ReleaseLeaderAsync(CancellationToken ct)
        => (await TxnAsync([ValueIs(_leaderKey, _memberName)], [Delete(Keys.Leader)], ct)).Succeeded;

    public async Task TouchMemberAsync(MemberData data, CancellationToken ct)
    {
        var json = ByteString.CopyFromUtf8(data.ToJson());
        await WithLeaseAsync(async lease =>
        {
            // As Patroni's touch_member: nothing to write when the last snapshot already holds exactly
            // this value on this lease (the lease itself was just kept alive).
            if (_ownMemberSeen is { } seen && seen.Lease == lease && seen.Value == json.ToStringUtf8()) return true;
            await _endpoints.CallAsync((e, t) => e.Client.PutAsync(new PutRequest { Key = _memberKey, Value = json, Lease = lease }, cancellationToken: t), ct);
            return true;
        }, ct);
    }

    public async Task DeleteMemberAsync(CancellationToken ct)
    {
        await _endpoints.CallAsync((e, t) => e.Client.DeleteAsync(new DeleteRangeRequest { Key = _memberKey }, cancellationToken: t), ct);
        _ownMemberSeen = null;
    }

    public async Task<bool> InitializeConfigAsync(string json, CancellationToken ct)
        => (await WriteIfAsync(Keys.Config, 0, json, ct)).Succeeded;

    public async Task<bool> WriteConfigAsync(string json, long expectedVersion, CancellationToken ct)
        => (await WriteIfAsync(Keys.Config, expectedVersion, json, ct)).Succeeded;

    public async Task<bool> WriteFailoverAsync(string json, long expectedVersion, CancellationToken ct)
        => (await WriteIfAsync(Keys.Failover, expectedVersion, json, ct)).Succeeded;

    public async Task<bool> ClearFailoverAsync(long expectedVersion, CancellationToken ct)
        => expectedVersion != 0 && await DeleteIfAsync(Keys.Failover, VersionIs(Keys.Failover, expectedVersion), ct);

    public async Task<long?> WriteSyncAsync(string json, long expectedVersion, CancellationToken ct)
    {
        var r = await WriteIfAsync(Keys.Sync, expectedVersion, json, ct, ValueIs(Keys.Leader, MemberName));
        return r.Succeeded ? r.Revision : null;
    }

    public async Task<bool> DeleteSyncAsync(long expectedVersion, CancellationToken ct)
        => expectedVersion != 0 && await DeleteIfAsync(Keys.Sync, VersionIs(Keys.Sync, expectedVersion), ct);

    public async Task WriteHistoryAsync(string json, CancellationToken ct)
        => await _endpoints.CallAsync((e, t) => e.Client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(Keys.History), Value = ByteString.CopyFromUtf8(json) }, cancellationToken: t), ct);

    public async Task WriteStatusAsync(long optime, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(new StatusData(optime), ClusterJson.Default.StatusData);
        await _endpoints.CallAsync((e, t) => e.Client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(Keys.Status), Value = ByteString.CopyFromUtf8(json) }, cancellationToken: t), ct);
    }

    public Task<bool> WaitForChangeAsync(TimeSpan timeout, CancellationToken ct) => _changes.WaitAsync(timeout, _time, ct);

    /// <summary>
    /// Clean shutdown: revokes the lease, which deletes this node's member key and, if it holds it, the
    /// leader key at once. Not done on dispose: after a crash the keys must stay until the lease expires.
    /// </summary>
    public async Task RevokeLeaseAsync(CancellationToken ct)
    {
        var lease = Interlocked.Exchange(ref _lease, 0);
        if (lease == 0) return;
        try
        {
            await _endpoints.CallAsync((e, t) => e.Client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, cancellationToken: t), ct);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // Already expired (or revoked by an earlier attempt): nothing left to revoke.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync();
        try { await _watchLoop; } catch (OperationCanceledException) { }
        _stop.Dispose();
        _leaseGate.Dispose();
        _endpoints.Dispose();
    }

    // ---- lease -------------------------------------------------------------------------------

    /// <summary>
    /// Runs <paramref name="write"/> with a live lease: keeps the current one alive (one keepalive round
    /// trip) or grants a new one. If etcd answers that the lease is gone in the middle (it expired
    /// between the keepalive and the write), grants a new one and runs the write once more.
    /// </summary>
    private async Task<bool> WithLeaseAsync(Func<long, Task<bool>> write, CancellationToken ct)
    {
        var lease = await RefreshLeaseAsync(ct);
        try
        {
            return await write(lease);
        }
        catch (RpcException e) when (IsLeaseNotFound(e))
        {
            Interlocked.CompareExchange(ref _lease, 0, lease);
            if (_log is not null) LogLeaseLost(_log, lease);
            return await write(await RefreshLeaseAsync(ct));
        }
    }

    private async Task<long> RefreshLeaseAsync(CancellationToken ct)
    {
        await _leaseGate.WaitAsync(ct);
        try
        {
            var lease = LeaseId;
            if (lease != 0)
            {
                if (await KeepAliveOnceAsync(lease, ct)) return lease;
                Interlocked.CompareExchange(ref _lease, 0, lease);
                if (_log is not null) LogLeaseLost(_log, lease);
            }
            // A grant repeated on another endpoint may leave an unused lease behind: nothing is put on
            // it and it expires after one TTL.
            var granted = await _endpoints.CallAsync((e, t) => e.Client.LeaseGrantAsync(new LeaseGrantRequest { TTL = _ttl }, cancellationToken: t), ct);
            Volatile.Write(ref _lease, granted.ID);
            if (_log is not null) LogLeaseGranted(_log, granted.ID, _ttl);
            return granted.ID;
        }
        finally
        {
            _leaseGate.Release();
        }
    }

    /// <summary>
    /// One keepalive request and its one response on a fresh LeaseKeepAlive stream. dotnet-etcd's
    /// <c>LeaseKeepAlive</c> helpers keep a stream open and answer through callbacks on their own
    /// schedule; a leader renewal needs a single round trip bounded by the caller's token, tried on the
    /// next endpoint when one does not answer. False when etcd no longer knows the lease (it answers
    /// TTL 0, or NotFound).
    /// </summary>
    private Task<bool> KeepAliveOnceAsync(long lease, CancellationToken ct) => _endpoints.CallAsync(async (e, t) =>
    {
        try
        {
            using var call = e.Leases.LeaseKeepAlive(cancellationToken: t);
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, t);
            if (!await call.ResponseStream.MoveNext(t))
                throw new RpcException(new Status(StatusCode.Unavailable, "etcd closed the keepalive stream without an answer"));
            var ttl = call.ResponseStream.Current.TTL;
            await call.RequestStream.CompleteAsync();
            return ttl > 0;
        }
        catch (RpcException x) when (IsLeaseNotFound(x))
        {
            return false;
        }
    }, ct);

    private static bool IsLeaseNotFound(RpcException e)
        => e.StatusCode == StatusCode.NotFound && e.Status.Detail.Contains("lease not found", StringComparison.Ordinal);

    // ---- transactions ------------------------------------------------------------------------

    private Task<TxnResponse> TxnAsync(Compare compare, RequestOp success, CancellationToken ct) => TxnAsync([compare], [success], ct);

    private Task<TxnResponse> TxnAsync(IEnumerable<Compare> compare, IEnumerable<RequestOp> success, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Compare.AddRange(compare);
        txn.Success.AddRange(success);
        return _endpoints.CallAsync((e, t) => e.Client.TransactionAsync(txn, cancellationToken: t), ct);
    }

    /// <summary>
    /// A compare-and-swap of <paramref name="key"/> that tells "another writer won" from "my own earlier
    /// attempt won": true (with the key's revision) when the compare held, or when it failed because the
    /// key already holds what this write puts, as <paramref name="mine"/> judges.
    /// </summary>
    /// <remarks>
    /// An attempt that gives no answer in time is repeated on another endpoint, and the one given up on
    /// may still be applied (a frozen member thaws and forwards it; a follower's proposal reaches the
    /// new Raft leader). Applied twice, a compare-and-swap fails the second time, because its compare
    /// no longer holds: a create-if-absent would answer "lost" for a key it created, and a node would
    /// follow a leader key naming itself, or wait for ever on its own bootstrap claim. So the failure
    /// branch reads the key, and a key that holds this write's value on this node's own lease (a lease
    /// id only this store puts keys on) is this write's. For the keys on no lease (config, failover,
    /// sync) the same value written after the expected revision counts: if another writer put exactly
    /// that value, the outcome the caller asked for holds all the same.
    /// </remarks>
    private async Task<(bool Succeeded, long Revision)> CasAsync(IEnumerable<Compare> compare, IEnumerable<RequestOp> success, ByteString key,
        Func<KeyValue, bool> mine, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Compare.AddRange(compare);
        txn.Success.AddRange(success);
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        var r = await _endpoints.CallAsync((e, t) => e.Client.TransactionAsync(txn, cancellationToken: t), ct);
        if (r.Succeeded) return (true, r.Header.Revision);
        return r.Responses is [{ ResponseRange.Kvs: [var kv] }] && mine(kv) ? (true, kv.ModRevision) : (false, 0);
    }

    /// <summary>
    /// Deletes <paramref name="key"/> if <paramref name="compare"/> holds; true also when the compare failed
    /// because the key is already gone: an attempt given up on may have been applied, and a repeat of it
    /// must not answer "failed" for a delete that happened. Gone is the outcome the caller asked for.
    /// </summary>
    private async Task<bool> DeleteIfAsync(string key, Compare compare, CancellationToken ct)
    {
        var k = ByteString.CopyFromUtf8(key);
        var txn = new TxnRequest();
        txn.Compare.Add(compare);
        txn.Success.Add(Delete(key));
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = k, CountOnly = true } });
        var r = await _endpoints.CallAsync((e, t) => e.Client.TransactionAsync(txn, cancellationToken: t), ct);
        return r.Succeeded || r.Responses is [{ ResponseRange.Count: 0 }];
    }

    /// <summary>Puts <paramref name="json"/> at <paramref name="key"/> only if it is still at <paramref name="expectedVersion"/> (0: absent), and <paramref name="also"/> holds.</summary>
    private Task<(bool Succeeded, long Revision)> WriteIfAsync(string key, long expectedVersion, string json, CancellationToken ct, Compare? also = null)
    {
        var k = ByteString.CopyFromUtf8(key);
        var v = ByteString.CopyFromUtf8(json);
        Compare[] compare = also is null ? [VersionIs(key, expectedVersion)] : [VersionIs(key, expectedVersion), also];
        return CasAsync(compare, [PutOp(k, v, 0)], k, kv => kv.Value.Equals(v) && kv.ModRevision > expectedVersion, ct);
    }

    private bool IsOurs(KeyValue kv, long lease) => kv.Lease == lease && kv.Value.Equals(_memberName);

    private static Compare Absent(string key) => Absent(ByteString.CopyFromUtf8(key));

    /// <summary>create_revision(key) == 0: the key does not exist.</summary>
    private static Compare Absent(ByteString key) => new()
    {
        Key = key,
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = 0,
    };

    private static Compare ValueIs(string key, string value) => ValueIs(ByteString.CopyFromUtf8(key), ByteString.CopyFromUtf8(value));

    private static Compare ValueIs(ByteString key, ByteString value) => new()
    {
        Key = key,
        Target = Compare.Types.CompareTarget.Value,
        Result = Compare.Types.CompareResult.Equal,
        Value = value,
    };

    /// <summary>The key is exactly as seen: absent when <paramref name="version"/> is 0, else last written at that revision.</summary>
    private static Compare VersionIs(string key, long version) => version == 0 ? Absent(key) : ModRevisionIs(ByteString.CopyFromUtf8(key), version);

    private static Compare ModRevisionIs(ByteString key, long revision) => new()
    {
        Key = key,
        Target = Compare.Types.CompareTarget.Mod,
        Result = Compare.Types.CompareResult.Equal,
        ModRevision = revision,
    };

    private static Compare LeaseIs(ByteString key, long lease) => new()
    {
        Key = key,
        Target = Compare.Types.CompareTarget.Lease,
        Result = Compare.Types.CompareResult.Equal,
        Lease = lease,
    };

    private static RequestOp Put(string key, string value) => PutOp(ByteString.CopyFromUtf8(key), ByteString.CopyFromUtf8(value), 0);

    private static RequestOp Delete(string key) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } };

    private static RequestOp PutOp(ByteString key, ByteString value, long lease)
        => new() { RequestPut = new PutRequest { Key = key, Value = value, Lease = lease } };


    // ---- watch -------------------------------------------------------------------------------

    private async Task WatchLoopAsync(CancellationToken stop)
    {
        long next = 0; // the revision to resume from; 0: from now
        while (!stop.IsCancellationRequested)
        {
            var endpoint = _endpoints.Preferred;
            using var watch = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var answered = _time.GetTimestamp();
            Task? pinger = null;
            try
            {
                var loaded = Volatile.Read(ref _lastLoadRevision);
                if (next == 0 && loaded > 0) next = loaded + 1;
                using var call = endpoint.Watches.Watch(cancellationToken: watch.Token);
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest { Key = _prefix, RangeEnd = _prefixEnd, StartRevision = next, PrevKv = true },
                }, watch.Token);
                // One progress request every attempt bound; silent for WatchSilentAttempts of them, it starts again elsewhere.
                pinger = WatchProgress.RequestAsync(call.RequestStream, () => Volatile.Read(ref answered), _endpoints.AttemptTimeout,
                    WatchSilentAttempts * _endpoints.AttemptTimeout, _time, watch);
                while (await call.ResponseStream.MoveNext(watch.Token))
                {
                    Volatile.Write(ref answered, _time.GetTimestamp());
                    var r = call.ResponseStream.Current;
                    if (r.CompactRevision > 0)
                    {
                        // Changes between `next` and the compaction are gone: resume at the oldest kept
                        // revision and wake the loop, which rereads everything anyway.
                        next = r.CompactRevision;
                        _changes.Set();
                        break;
                    }
                    if (r.Canceled) throw new RpcException(new Status(StatusCode.Unavailable, $"etcd cancelled the watch: {r.CancelReason}"));
                    if (r.Created)
                    {
                        Volatile.Write(ref _watching, 1);
                        // Started from "now" after a snapshot was read at an older revision: whatever
                        // changed in between is unseen, so wake the loop once to read again.
                        if (next == 0 && Volatile.Read(ref _lastLoadRevision) is > 0 and var l && l < r.Header.Revision) _changes.Set();
                        if (next == 0) next = r.Header.Revision + 1;
                    }
                    // A progress answer carries no events: it only proves the member is alive.
                    var wake = false;
                    foreach (var e in r.Events)
                    {
                        wake |= Wakes(e);
                        next = Math.Max(next, e.Kv.ModRevision + 1);
                    }
                    if (wake) _changes.Set();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                // The progress requests got no answer: the member hangs (frozen, its disk stalled).
                var silent = WatchSilentAttempts * _endpoints.AttemptTimeout;
                _endpoints.Avoid(endpoint, $"the watch answered nothing for {silent.TotalSeconds:0.#} s");
                if (_log is not null) LogWatchFailed(_log, $"{endpoint} answered nothing for {silent.TotalSeconds:0.#} s");
            }
            catch (Exception e)
            {
                if (e is RpcException r && EtcdEndpoints.IsTransient(r)) _endpoints.Avoid(endpoint, $"the watch failed: {r.Status.Detail}");
                if (_log is not null) LogWatchFailed(_log, $"{endpoint}: {e.Message}");
            }
            finally
            {
                await watch.CancelAsync();
                if (pinger is not null) try { await pinger; } catch (Exception) { /* the stream is gone with the watch */ }
            }
            Volatile.Write(ref _watching, 0);
            try
            {
                await Task.Delay(WatchRetryDelay, _time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private bool Wakes(Event e)
    {
        var name = e.Kv.Key.ToStringUtf8()[Keys.Prefix.Length..];
        string? value = e.Type == Event.Types.EventType.Delete ? null : e.Kv.Value.ToStringUtf8();
        string? old = e.PrevKv?.Value.ToStringUtf8();
        if (name == EtcdKeys.LeaderName) Volatile.Write(ref _leaderSeen, value);
        if (old == value) return false;
        return name switch
        {
            EtcdKeys.LeaderName or EtcdKeys.ConfigName or EtcdKeys.FailoverName or EtcdKeys.InitializeName or EtcdKeys.SyncName => true,
            // The leader's own status writes must not wake the leader every cycle.
            EtcdKeys.StatusName or EtcdKeys.LegacyLeaderOptimeName => Volatile.Read(ref _leaderSeen) != MemberName,
            // A member arriving or leaving (clean stop, or its lease expired) matters to the leader at once: a
            // synchronous standby that left stalls every commit until the leader names another. Refreshes do not wake.
            _ => (value is null || old is null) && Keys.MemberNameOf(e.Kv.Key.ToStringUtf8()) is not null
                && Volatile.Read(ref _leaderSeen) == MemberName,
        };
    }

    // ---- logging -----------------------------------------------------------------------------

    [LoggerMessage(Level = LogLevel.Warning, Message = "etcd: skipped member key {Key}: its value is not a member's JSON")]
    private static partial void LogBadMember(ILogger log, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "etcd: lease {Lease:x} is gone (expired); its keys went with it")]
    private static partial void LogLeaseLost(ILogger log, long lease);

    [LoggerMessage(Level = LogLevel.Information, Message = "etcd: granted lease {Lease:x} with TTL {Ttl} s")]
    private static partial void LogLeaseGranted(ILogger log, long lease, int ttl);

    [LoggerMessage(Level = LogLevel.Warning, Message = "etcd: watch failed, restarting: {Reason}")]
    private static partial void LogWatchFailed(ILogger log, string reason);
}
