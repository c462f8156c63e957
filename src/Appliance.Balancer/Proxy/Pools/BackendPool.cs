using System.Collections.Immutable;
using System.Net;
using Appliance.Balancer.Proxy.Stats;
using Appliance.Proxy;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy.Pools;

/// <summary>
/// One listener's pool: routing says who may take new clients (<see cref="Update"/>), the pool picks
/// among them (<see cref="ServerPicker"/>), counts slots against the listener's and each server's
/// <c>maxconn</c>, and queues clients FIFO while nobody has a free slot — a switchover holds new
/// connections instead of refusing them, and hands them to the new primary the moment it is routed to.
/// </summary>
/// <remarks>
/// One lock guards everything; nothing under it blocks or awaits. Waiting clients sit on
/// <see cref="TaskCompletionSource{T}"/>s completed asynchronously, their timeouts are timers of the
/// injected <see cref="TimeProvider"/>, and shutdown tokens are cancelled after the lock is released
/// (their callbacks run the sessions' close code).
/// </remarks>
public sealed partial class BackendPool : IBackendPool
{
    private readonly object _gate = new();
    private readonly PoolSettings _settings;
    private readonly ListenerStats _listener;
    private readonly TimeProvider _time;
    private readonly ILogger? _log;
    private readonly ServerPicker _picker;
    // By server (name and address): a server that comes back at a new address is a new slot.
    private readonly Dictionary<Backend, Slot> _slots = [];
    private readonly Dictionary<string, BackendStats> _stats = new(StringComparer.Ordinal);
    private readonly LinkedList<Waiter> _queue = new();
    private readonly List<PickCandidate> _candidates = [];
    private readonly List<Slot> _candidateSlots = [];

    private ImmutableArray<Backend> _servers = [];
    private string _reason = "no route yet";
    private int _active;
    private bool _stopping;

    /// <param name="name">The listener's name.</param>
    /// <param name="settings">Balancing and limits.</param>
    /// <param name="listener">The listener's counters (queue length).</param>
    /// <param name="time">The clock of queue timeouts.</param>
    /// <param name="log">Where changes of the pool's servers are logged.</param>
    public BackendPool(string name, PoolSettings settings, ListenerStats listener, TimeProvider time, ILogger? log = null)
    {
        Name = name;
        _settings = settings;
        _listener = listener;
        _time = time;
        _log = log;
        _picker = new ServerPicker(settings.Balance);
    }

    public string Name { get; }

    /// <summary>The servers that take new clients now.</summary>
    public ImmutableArray<Backend> Servers { get { lock (_gate) return _servers; } }

    /// <summary>Why the pool holds these servers (the routing reason of the last <see cref="Update"/>).</summary>
    public string Reason { get { lock (_gate) return _reason; } }

    /// <summary>Clients waiting now.</summary>
    public int Queued { get { lock (_gate) return _queue.Count; } }

    /// <summary>Sessions holding a lease now.</summary>
    public int Active { get { lock (_gate) return _active; } }

    /// <summary>Every server's counters in this pool, including servers that left it (metrics keep their totals).</summary>
    public IReadOnlyList<BackendStats> Stats { get { lock (_gate) return [.. _stats.Values]; } }

    public IReadOnlyList<Backend> CancelTargets
    {
        get
        {
            lock (_gate) return [.. _servers.Concat(_slots.Values.Where(s => s.Sessions > 0).Select(s => s.Backend)).Distinct()];
        }
    }

    /// <summary>
    /// From now on only <paramref name="servers"/> take new clients. Servers that left end their sessions
    /// (their leases' <see cref="PoolLease.Shutdown"/> fires) when <c>shutdown_sessions</c> is on; queued
    /// clients are granted at once if the change brings a free slot.
    /// </summary>
    /// <param name="servers">Who may take new clients.</param>
    /// <param name="reason">Why (logged with the change and given to clients that time out in the queue).</param>
    public void Update(ImmutableArray<Backend> servers, string reason)
    {
        List<CancellationTokenSource>? shutdown = null;
        lock (_gate)
        {
            _reason = reason;
            if (servers.SequenceEqual(_servers)) return;
            var old = _servers;
            _servers = servers;
            foreach (var b in old.Except(servers))
            {
                if (!_slots.TryGetValue(b, out var slot)) continue;
                slot.InPool = false;
                if (_settings.ShutdownSessions && slot.Sessions > 0) (shutdown ??= []).Add(slot.Shutdown);
                if (slot.Sessions == 0) Forget(slot);
            }
            foreach (var b in servers)
            {
                if (_slots.TryGetValue(b, out var slot) && slot.InPool) continue;
                // A server back in the pool gets a fresh shutdown token: the old one may have fired already.
                if (slot is not null && slot.Sessions == 0) Forget(slot);
                _slots[b] = new Slot(b, StatsOf(b.Name));
            }
            if (_log is not null) LogServers(_log, Name, servers.IsEmpty ? "nobody" : string.Join(", ", servers.Select(s => s.Name)), reason);
            Dispatch();
        }
        // Outside the lock: the sessions' shutdown callbacks run here.
        if (shutdown is not null)
            foreach (var cts in shutdown) cts.Cancel();
    }

    public ValueTask<PoolAcquire> AcquireAsync(IPAddress client, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_gate)
        {
            if (_stopping) return new(PoolAcquire.Refused("stopping", $"{Name} is stopping"));
            // FIFO: nobody overtakes a client already waiting.
            if (_queue.Count == 0 && TryGrant(client) is { } lease) return new(PoolAcquire.Granted(lease));
            if (_queue.Count >= _settings.MaxQueue)
                return new(PoolAcquire.Refused("queue_full", $"{Name}: {_queue.Count} clients already wait (max_queue {_settings.MaxQueue}): {_reason}"));
            waiter = new Waiter(this, client);
            waiter.Node = _queue.AddLast(waiter);
            _listener.QueueEntered();
            // queue_timeout 0 means none, as every timeout of [proxy]: the client waits until it is served or gives up.
            if (_settings.QueueTimeout > TimeSpan.Zero)
                waiter.Timer = _time.CreateTimer(static s => ((Waiter)s!).Pool.TimedOut((Waiter)s), waiter, _settings.QueueTimeout, Timeout.InfiniteTimeSpan);
        }
        if (ct.CanBeCanceled) waiter.Cancellation = ct.Register(static s => ((Waiter)s!).Pool.Abandoned((Waiter)s), waiter);
        return new(waiter.Result.Task);
    }

    /// <summary>Refuses every waiting client (<c>stopping</c>) and every later one.</summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            _stopping = true;
            while (_queue.First is { } node) Leave(node.Value, PoolAcquire.Refused("stopping", $"{Name} is stopping"));
        }
        return Task.CompletedTask;
    }

    private void TimedOut(Waiter w)
    {
        lock (_gate)
        {
            if (w.Node?.List is null) return;
            Leave(w, PoolAcquire.Refused("queue_timeout", $"{Name}: no server within queue_timeout ({_settings.QueueTimeout.TotalSeconds:0.###} s): {_reason}"));
        }
    }

    private void Abandoned(Waiter w)
    {
        lock (_gate)
        {
            if (w.Node?.List is null) return;
            _queue.Remove(w.Node);
            _listener.QueueLeft();
            w.Timer?.Dispose();
        }
        w.Result.TrySetCanceled(w.Cancellation.Token);
    }

    /// <summary>Grants queued clients in order while there is a free slot. Under the lock.</summary>
    private void Dispatch()
    {
        while (_queue.First is { } node && TryGrant(node.Value.Client) is { } lease)
        {
            if (!Leave(node.Value, PoolAcquire.Granted(lease))) lease.Dispose(); // it gave up just now
        }
    }

    /// <summary>Takes <paramref name="w"/> out of the queue with <paramref name="result"/>. Under the lock.</summary>
    private bool Leave(Waiter w, PoolAcquire result)
    {
        _queue.Remove(w.Node!);
        _listener.QueueLeft();
        w.Timer?.Dispose();
        w.Cancellation.Dispose();
        return w.Result.TrySetResult(result);
    }

    /// <summary>A lease on the picked server, or null when nobody has a free slot. Under the lock.</summary>
    private PoolLease? TryGrant(IPAddress client)
    {
        if (_settings.Maxconn > 0 && _active >= _settings.Maxconn) return null;
        _candidates.Clear();
        _candidateSlots.Clear();
        foreach (var b in _servers)
        {
            var slot = _slots[b];
            var limits = _settings.LimitsOf(b.Name);
            _candidates.Add(new PickCandidate(b.Name, limits.Weight, slot.Sessions, limits.Maxconn));
            _candidateSlots.Add(slot);
        }
        if (_picker.Pick(_candidates, client) is not int i) return null;
        var picked = _candidateSlots[i];
        picked.Sessions++;
        _active++;
        return new PoolLease(picked.Backend, picked.Stats, () => Release(picked), picked.Shutdown.Token);
    }

    private void Release(Slot slot)
    {
        lock (_gate)
        {
            slot.Sessions--;
            _active--;
            if (!slot.InPool && slot.Sessions == 0) Forget(slot);
            Dispatch();
        }
    }

    private void Forget(Slot slot)
    {
        // The token source is not disposed: an Update may still be about to cancel it outside the lock.
        if (_slots.TryGetValue(slot.Backend, out var held) && held == slot) _slots.Remove(slot.Backend);
    }

    private BackendStats StatsOf(string server)
    {
        if (!_stats.TryGetValue(server, out var s)) _stats[server] = s = new BackendStats(Name, server);
        return s;
    }

    /// <summary>A server's place in the pool: its sessions through this pool, and the token that ends them.</summary>
    private sealed class Slot(Backend backend, BackendStats stats)
    {
        public Backend Backend { get; } = backend;
        public BackendStats Stats { get; } = stats;
        public CancellationTokenSource Shutdown { get; } = new();
        public int Sessions { get; set; }
        public bool InPool { get; set; } = true;
    }

    private sealed class Waiter(BackendPool pool, IPAddress client)
    {
        public BackendPool Pool { get; } = pool;
        public IPAddress Client { get; } = client;
        public TaskCompletionSource<PoolAcquire> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public LinkedListNode<Waiter>? Node { get; set; }
        public ITimer? Timer { get; set; }
        public CancellationTokenRegistration Cancellation { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "pool {Pool}: new clients go to {Servers}: {Reason}")]
    private static partial void LogServers(ILogger log, string pool, string servers, string reason);
}
