using System.Text.Json;
using Appliance.Cluster;
using Appliance.Configuration;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
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
/// <para>A background prefix watch, started at creation and restarted after any failure from the
/// revision it had reached, wakes <see cref="WaitForChangeAsync"/> on the changes Patroni's watcher wakes
/// its HA loop for (etcd3.py, <c>KVCache._process_event</c>): a change of the leader key's value, of
/// <c>config</c>, and of <c>status</c> when another node leads; and also of <c>failover</c>,
/// <c>initialize</c> and <c>sync</c>, so a switchover or a finished bootstrap is seen at once. Member
/// keys do not wake it: every node rewrites them every cycle.</para>
/// </remarks>
public sealed partial class EtcdClusterStore : IClusterStore
{
    private static readonly TimeSpan WatchRetryDelay = TimeSpan.FromSeconds(1);

    private readonly GrpcChannel _channel;
    private readonly EtcdClient _client;
    private readonly Lease.LeaseClient _leases;
    private readonly Watch.WatchClient _watches;
    private readonly EtcdAuth? _auth;
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

    private EtcdClusterStore(EtcdSection etcd, ClusterSection cluster, string memberName, int ttlSeconds, TimeProvider time, ILogger? log)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(memberName);
        ArgumentOutOfRangeException.ThrowIfLessThan(ttlSeconds, 2);
        Keys = new EtcdKeys(cluster.Namespace, cluster.Scope);
        MemberName = memberName;
        _ttl = ttlSeconds;
        _time = time;
        _log = log;
        (_channel, var invoker, _auth) = EtcdChannel.Connect(etcd);
        _client = new EtcdClient(invoker);
        _leases = new Lease.LeaseClient(invoker);
        _watches = new Watch.WatchClient(invoker);
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
    /// <param name="log">Where lease losses, skipped member values and watch restarts are reported; none when null.</param>
    public static EtcdClusterStore Create(EtcdSection etcd, ClusterSection cluster, string memberName, int ttlSeconds, TimeProvider time, ILogger? log = null)
        => new(etcd, cluster, memberName, ttlSeconds, time, log);

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
        var r = await CallAsync(() => _client.GetAsync(new RangeRequest { Key = _prefix, RangeEnd = _prefixEnd }, cancellationToken: ct));
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
        => WithLeaseAsync(async lease => (await TxnAsync([Absent(Keys.Initialize)], [PutOp(ByteString.CopyFromUtf8(Keys.Initialize), ByteString.Empty, lease)], ct)).Succeeded, ct);

    /// <summary>Only our own claim: if it expired and another node claimed since, its initdb wins, not ours.</summary>
    public async Task<bool> CompleteInitializeAsync(string systemId, CancellationToken ct)
        => (await TxnAsync([ValueIs(Keys.Initialize, ""), LeaseIs(ByteString.CopyFromUtf8(Keys.Initialize), LeaseId)], [Put(Keys.Initialize, systemId)], ct)).Succeeded;

    public async Task<bool> AbandonInitializeAsync(CancellationToken ct)
        => (await TxnAsync(ValueIs(Keys.Initialize, ""), Delete(Keys.Initialize), ct)).Succeeded;

    public Task<bool> TryAcquireLeaderAsync(CancellationToken ct)
        => WithLeaseAsync(async lease =>
        {
            var won = (await TxnAsync([Absent(_leaderKey)], [PutOp(_leaderKey, _memberName, lease)], ct)).Succeeded;
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
        var compare = new[] { ValueIs(_leaderKey, _memberName), LeaseIs(_leaderKey, lease) };
        var r = await TxnAsync(compare, [new RequestOp { RequestRange = new RangeRequest { Key = _leaderKey, CountOnly = true } }], ct);
        return r.Succeeded;
    }

    public Task<bool> TakeOverLeaderAsync(LeaderLock seen, CancellationToken ct)
        => WithLeaseAsync(async lease =>
        {
            var compare = new[] { ValueIs(_leaderKey, _memberName), ModRevisionIs(_leaderKey, seen.ModRevision) };
            var won = (await TxnAsync(compare, [PutOp(_leaderKey, _memberName, lease)], ct)).Succeeded;
            if (won) Volatile.Write(ref _leaderSeen, MemberName);
            return won;
        }, ct);

    public async Task<bool> ReleaseLeaderAsync(CancellationToken ct)
        => (await TxnAsync([ValueIs(_leaderKey, _memberName)], [new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = _leaderKey } }], ct)).Succeeded;

    public async Task TouchMemberAsync(MemberData data, CancellationToken ct)
    {
        var json = ByteString.CopyFromUtf8(data.ToJson());
        await WithLeaseAsync(async lease =>
        {
            // As Patroni's touch_member: nothing to write when the last snapshot already holds exactly
            // this value on this lease (the lease itself was just kept alive).
            if (_ownMemberSeen is { } seen && seen.Lease == lease && seen.Value == json.ToStringUtf8()) return true;
            await CallAsync(() => _client.PutAsync(new PutRequest { Key = _memberKey, Value = json, Lease = lease }, cancellationToken: ct));
            return true;
        }, ct);
    }

    public async Task DeleteMemberAsync(CancellationToken ct)
    {
        await CallAsync(() => _client.DeleteAsync(new DeleteRangeRequest { Key = _memberKey }, cancellationToken: ct));
        _ownMemberSeen = null;
    }

    public async Task<bool> InitializeConfigAsync(string json, CancellationToken ct)
        => (await TxnAsync(Absent(Keys.Config), Put(Keys.Config, json), ct)).Succeeded;

    public async Task<bool> WriteConfigAsync(string json, long expectedVersion, CancellationToken ct)
        => (await TxnAsync(VersionIs(Keys.Config, expectedVersion), Put(Keys.Config, json), ct)).Succeeded;

    public async Task<bool> WriteFailoverAsync(string json, long expectedVersion, CancellationToken ct)
        => (await TxnAsync(VersionIs(Keys.Failover, expectedVersion), Put(Keys.Failover, json), ct)).Succeeded;

    public async Task<bool> ClearFailoverAsync(long expectedVersion, CancellationToken ct)
        => expectedVersion != 0 && (await TxnAsync(VersionIs(Keys.Failover, expectedVersion), Delete(Keys.Failover), ct)).Succeeded;

    public async Task<long?> WriteSyncAsync(string json, long expectedVersion, CancellationToken ct)
    {
        var r = await TxnAsync([VersionIs(Keys.Sync, expectedVersion), ValueIs(Keys.Leader, MemberName)], [Put(Keys.Sync, json)], ct);
        return r.Succeeded ? r.Header.Revision : null;
    }

    public async Task<bool> DeleteSyncAsync(long expectedVersion, CancellationToken ct)
        => expectedVersion != 0 && (await TxnAsync(VersionIs(Keys.Sync, expectedVersion), Delete(Keys.Sync), ct)).Succeeded;

    public async Task WriteHistoryAsync(string json, CancellationToken ct)
        => await CallAsync(() => _client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(Keys.History), Value = ByteString.CopyFromUtf8(json) }, cancellationToken: ct));

    public async Task WriteStatusAsync(long optime, CancellationToken ct)
    {
        var json = JsonSerializer.Serialize(new StatusData(optime), ClusterJson.Default.StatusData);
        await CallAsync(() => _client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(Keys.Status), Value = ByteString.CopyFromUtf8(json) }, cancellationToken: ct));
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
            await CallAsync(() => _client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, cancellationToken: ct));
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // Already expired: nothing left to revoke.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync();
        try { await _watchLoop; } catch (OperationCanceledException) { }
        _stop.Dispose();
        _leaseGate.Dispose();
        _client.Dispose();
        _channel.Dispose();
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
            var granted = await CallAsync(() => _client.LeaseGrantAsync(new LeaseGrantRequest { TTL = _ttl }, cancellationToken: ct));
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
    /// schedule; a leader renewal needs a single round trip bounded by the caller's token. False when
    /// etcd no longer knows the lease (it answers TTL 0, or NotFound).
    /// </summary>
    private Task<bool> KeepAliveOnceAsync(long lease, CancellationToken ct) => CallAsync(async () =>
    {
        try
        {
            using var call = _leases.LeaseKeepAlive(cancellationToken: ct);
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, ct);
            if (!await call.ResponseStream.MoveNext(ct))
                throw new RpcException(new Status(StatusCode.Unavailable, "etcd closed the keepalive stream without an answer"));
            var ttl = call.ResponseStream.Current.TTL;
            await call.RequestStream.CompleteAsync();
            return ttl > 0;
        }
        catch (RpcException e) when (IsLeaseNotFound(e))
        {
            return false;
        }
    });

    private static bool IsLeaseNotFound(RpcException e)
        => e.StatusCode == StatusCode.NotFound && e.Status.Detail.Contains("lease not found", StringComparison.Ordinal);

    // ---- transactions ------------------------------------------------------------------------

    private Task<TxnResponse> TxnAsync(Compare compare, RequestOp success, CancellationToken ct) => TxnAsync([compare], [success], ct);

    private Task<TxnResponse> TxnAsync(IEnumerable<Compare> compare, IEnumerable<RequestOp> success, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Compare.AddRange(compare);
        txn.Success.AddRange(success);
        return CallAsync(() => _client.TransactionAsync(txn, cancellationToken: ct));
    }

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

    private static RequestOp PutOp(ByteString key, ByteString value, long lease)
        => new() { RequestPut = new PutRequest { Key = key, Value = value, Lease = lease } };

    private static RequestOp Delete(string key) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } };

    private Task<T> CallAsync<T>(Func<Task<T>> call) => EtcdAuth.CallAsync(_auth, call);

    // ---- watch -------------------------------------------------------------------------------

    private async Task WatchLoopAsync(CancellationToken stop)
    {
        long next = 0; // the revision to resume from; 0: from now
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var loaded = Volatile.Read(ref _lastLoadRevision);
                if (next == 0 && loaded > 0) next = loaded + 1;
                using var call = _watches.Watch(cancellationToken: stop);
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest { Key = _prefix, RangeEnd = _prefixEnd, StartRevision = next, PrevKv = true },
                }, stop);
                while (await call.ResponseStream.MoveNext(stop))
                {
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
            catch (Exception e)
            {
                if (_log is not null) LogWatchFailed(_log, e.Message);
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
