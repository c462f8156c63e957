using Appliance.Cluster;
using Appliance.Configuration;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;

namespace Appliance.Etcd;

/// <summary>How a <see cref="ClusterWatch"/> reacts.</summary>
public sealed record ClusterWatchOptions
{
    /// <summary>With no answer from etcd for this long (reads fail, the watch is broken or silent), the view becomes null: "etcd cannot be read".</summary>
    public TimeSpan UnreachableAfter { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>Pause between attempts to read again while etcd cannot be reached.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>
    /// WAL positions (members' <c>xlog_location</c>, <c>status</c>'s optime) are rewritten by every node every
    /// cycle; a move of at least this many bytes since the last published snapshot publishes a new one.
    /// Null: positions alone never publish (they ride along with other changes).
    /// </summary>
    public long? PositionThreshold { get; init; }
}

/// <summary>
/// A read-only view of one cluster's keys for the proxy: one range read, then a prefix watch from the
/// revision it was read at, applied to the keys held here. A new <see cref="ClusterSnapshot"/> is
/// published (<see cref="Changed"/>) when something routing depends on changed: the leader key, a member
/// arriving or leaving or changing its role, state, addresses or tags, <c>config</c> or <c>sync</c>, and
/// WAL positions beyond <see cref="ClusterWatchOptions.PositionThreshold"/>. Never writes, holds no lease.
/// </summary>
/// <remarks>
/// Unlike <see cref="EtcdClusterStore"/>'s watch, member refreshes are looked at: the proxy must see a
/// member turn from replica to primary at once. When etcd gives no answer for
/// <see cref="ClusterWatchOptions.UnreachableAfter"/> — reads fail, the watch breaks, or a silent watch
/// does not answer the progress requests sent on it — the view becomes null (the proxy falls back on its
/// health checks) until a read succeeds again. A watch silent for half that bound is restarted on another
/// endpoint first (<see cref="EtcdEndpoints"/>), so one frozen etcd member does not blank the view.
/// </remarks>
public sealed partial class ClusterWatch : IAsyncDisposable
{
    private readonly EtcdEndpoints _endpoints;
    private readonly EtcdKeys _keys;
    private readonly ByteString _prefix;
    private readonly ByteString _prefixEnd;
    private readonly ClusterWatchOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger? _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly Task _loop;
    private readonly HashSet<string> _badLogged = new(StringComparer.Ordinal); // the loop's own

    private ClusterSnapshot? _current;
    private long _published;
    private long _lastContact; // TimeProvider timestamp of etcd's last answer
    private int _disposed;

    private ClusterWatch(EtcdSection etcd, ClusterSection cluster, ClusterWatchOptions options, TimeProvider time, ILogger? log)
    {
        _keys = new EtcdKeys(cluster.Namespace, cluster.Scope);
        _options = options;
        _time = time;
        _log = log;
        _endpoints = EtcdEndpoints.Connect(etcd, time: time, log: log);
        _prefix = ByteString.CopyFromUtf8(_keys.Prefix);
        _prefixEnd = ByteString.CopyFrom(EtcdKeys.RangeEnd(_prefix.Span));
        _lastContact = time.GetTimestamp();
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Starts watching the keys of <c>cluster.scope</c> at <c>etcd.endpoints</c>; the first snapshot comes after the first read.</summary>
    public static ClusterWatch Start(EtcdSection etcd, ClusterSection cluster, ClusterWatchOptions options, TimeProvider time, ILogger? log = null)
        => new(etcd, cluster, options, time, log);

    /// <summary>The last published snapshot; null before the first read and while etcd cannot be read.</summary>
    public ClusterSnapshot? Current { get { lock (_gate) return _current; } }

    /// <summary>Snapshots published so far (nulls included).</summary>
    public long Published => Interlocked.Read(ref _published);

    /// <summary>
    /// Raised on the watch's own task with each new snapshot, or null when etcd became unreadable.
    /// Handlers must be quick: the next event waits for them.
    /// </summary>
    public event Action<ClusterSnapshot?>? Changed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stop.CancelAsync();
        try { await _loop; } catch (OperationCanceledException) { }
        _stop.Dispose();
        _endpoints.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var keys = new Dictionary<string, KeyValue>(StringComparer.Ordinal);
        var failing = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var revision = await ReadAllAsync(keys, stop);
                Touch();
                if (failing && _log is not null) LogBack(_log, _keys.BasePath);
                failing = false;
                Consider(ClusterKeysParser.Parse(_keys, revision, keys.Values, BadMember));
                await FollowAsync(keys, revision, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (!failing && _log is not null) LogFailed(_log, _keys.BasePath, e is RpcException r ? r.Status.Detail : e.Message);
                failing = true;
            }
            if (_time.GetElapsedTime(Volatile.Read(ref _lastContact)) >= _options.UnreachableAfter) Publish(null);
            try
            {
                await Task.Delay(_options.RetryDelay, _time, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// One range read of the whole prefix, bounded by <see cref="ClusterWatchOptions.UnreachableAfter"/>, on
    /// whichever endpoint answers (an endpoint that hangs is passed over after one attempt bound).
    /// </summary>
    private async Task<long> ReadAllAsync(Dictionary<string, KeyValue> keys, CancellationToken stop)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(stop);
        bound.CancelAfter(_options.UnreachableAfter);
        var r = await _endpoints.CallAsync((e, t) => e.Kv.RangeAsync(new RangeRequest { Key = _prefix, RangeEnd = _prefixEnd }, cancellationToken: t).ResponseAsync, bound.Token);
        keys.Clear();
        foreach (var kv in r.Kvs) keys[kv.Key.ToStringUtf8()] = kv;
        return r.Header.Revision;
    }

    /// <summary>
    /// Follows the prefix from <paramref name="revision"/>+1 on the endpoint that answered last, until the
    /// watch breaks, is compacted past, or falls silent for half of <see cref="ClusterWatchOptions.UnreachableAfter"/>:
    /// then that endpoint is avoided and the caller reads again elsewhere before the view would go null.
    /// </summary>
    private async Task FollowAsync(Dictionary<string, KeyValue> keys, long revision, CancellationToken stop)
    {
        var endpoint = _endpoints.Preferred;
        var silentAfter = _options.UnreachableAfter / 2;
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var answered = _time.GetTimestamp();
        using var call = endpoint.Watches.Watch(cancellationToken: watch.Token);
        Task? pinger = null;
        try
        {
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest { Key = _prefix, RangeEnd = _prefixEnd, StartRevision = revision + 1 },
            }, watch.Token);
            pinger = WatchProgress.RequestAsync(call.RequestStream, () => Volatile.Read(ref answered), silentAfter / 3, silentAfter, _time, watch);
            while (await call.ResponseStream.MoveNext(watch.Token))
            {
                Volatile.Write(ref answered, _time.GetTimestamp());
                Touch();
                var r = call.ResponseStream.Current;
                // Changes before the compaction are gone: read everything again.
                if (r.CompactRevision > 0) return;
                if (r.Canceled) throw new RpcException(new Status(StatusCode.Unavailable, $"etcd cancelled the watch: {r.CancelReason}"));
                if (r.Events.Count == 0) continue;
                foreach (var e in r.Events)
                {
                    var key = e.Kv.Key.ToStringUtf8();
                    if (e.Type == Event.Types.EventType.Delete) keys.Remove(key);
                    else keys[key] = e.Kv;
                }
                Consider(ClusterKeysParser.Parse(_keys, r.Header.Revision, keys.Values, BadMember));
            }
            throw new RpcException(new Status(StatusCode.Unavailable, "etcd closed the watch"));
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            var reason = $"the watch gave no answer for {silentAfter.TotalSeconds:0.#} s";
            _endpoints.Avoid(endpoint, reason);
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"{endpoint}: {reason}"));
        }
        catch (RpcException e) when (EtcdEndpoints.IsTransient(e))
        {
            _endpoints.Avoid(endpoint, $"the watch failed: {e.Status.Detail}");
            throw;
        }
        finally
        {
            await watch.CancelAsync();
            if (pinger is not null) try { await pinger; } catch (Exception) { /* the stream is gone with the watch */ }
        }
    }

    private void Touch() => Volatile.Write(ref _lastContact, _time.GetTimestamp());

    // Every event re-reads the held keys: a bad value is logged once, not once per event.
    private void BadMember(string key)
    {
        if (_badLogged.Add(key) && _log is not null) LogBadMember(_log, key);
    }

    private void Consider(ClusterSnapshot next)
    {
        ClusterSnapshot? current;
        lock (_gate) current = _current;
        if (current is null || RoutingView.Differs(current, next, _options.PositionThreshold)) Publish(next);
    }

    private void Publish(ClusterSnapshot? next)
    {
        lock (_gate)
        {
            if (next is null && _current is null && Published > 0) return;
            _current = next;
        }
        Interlocked.Increment(ref _published);
        if (next is null && _log is not null) LogUnreachable(_log, _keys.BasePath, _options.UnreachableAfter.TotalSeconds);
        Changed?.Invoke(next);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "cluster watch {Cluster}: etcd gives no answer: {Reason}")]
    private static partial void LogFailed(ILogger log, string cluster, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cluster watch {Cluster}: etcd cannot be read for {Seconds} s: no cluster view")]
    private static partial void LogUnreachable(ILogger log, string cluster, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "cluster watch {Cluster}: etcd answers again")]
    private static partial void LogBack(ILogger log, string cluster);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cluster watch: skipped member key {Key}: its value is not a member's JSON")]
    private static partial void LogBadMember(ILogger log, string key);
}
