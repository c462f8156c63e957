using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Appliance.Balancer.Proxy.DataPath;
using Appliance.Balancer.Proxy.Pools;
using Appliance.Balancer.Proxy.Sessions;
using Appliance.Balancer.Proxy.Stats;
using Appliance.Configuration;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy.Listening;

/// <summary>
/// One <c>[[proxy.listener]]</c>: <c>workers</c> SO_REUSEPORT sockets on its address, one accept loop each,
/// a session per client. <see cref="IsAccepting"/> is what the VRRP tracker asks; <see cref="StopAsync"/>
/// closes the sockets and ends every session.
/// </summary>
public sealed class ProxyListener : IAsyncDisposable
{
    readonly ProxyListenerSection _section;
    readonly SessionContext _ctx;
    readonly CancellationTokenSource _stopping = new();
    readonly ConcurrentDictionary<long, Task> _sessions = new();
    // Cancelled (and replaced) to end the sessions open now without stopping the listener.
    CancellationTokenSource _drop = new();
    readonly List<Socket> _sockets = [];
    readonly List<Task> _loops = [];
    long _nextSession;
    int _failedLoops;
    bool _started;

    public ProxyListener(ProxyListenerSection listener, ProxySection proxy, IBackendPool pool, ListenerStats stats, IDataPath dataPath, ILogger log, TimeProvider? time = null)
    {
        _section = listener;
        _ctx = new SessionContext(listener.Name, proxy, pool, stats, dataPath, PumpTimeouts.From(proxy), time ?? TimeProvider.System, log);
    }

    public string Name => _section.Name;

    /// <summary>The data path its sessions take (after any fallback): <c>auto</c>, <c>sockmap</c>, <c>splice</c> or <c>copy</c>.</summary>
    public string DataPath => _ctx.DataPath.Name;

    /// <summary>The bound address (with the port the kernel chose when <c>bind</c> named port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Sessions open now (from accept to close).</summary>
    public int Sessions => _sessions.Count;

    /// <summary>Every accept loop is running: what the VRRP tracker checks.</summary>
    public bool IsAccepting => _started && !_stopping.IsCancellationRequested && Volatile.Read(ref _failedLoops) == 0;

    /// <summary>Binds <c>workers</c> sockets (0: one per core) and starts their accept loops. Throws when the address cannot be bound.</summary>
    public void Start()
    {
        if (_started) throw new InvalidOperationException($"{Name}: started already");
        if (!IPEndPoint.TryParse(_section.Bind, out var endPoint))
            throw new ArgumentException($"{Name}: bind \"{_section.Bind}\" is not an address:port");
        int workers = _ctx.Proxy.Workers > 0 ? _ctx.Proxy.Workers : Environment.ProcessorCount;
        try
        {
            for (int i = 0; i < workers; i++)
            {
                var s = ListenSocket.Create(endPoint);
                _sockets.Add(s);
                // Port 0: the first socket's port, so all of them share one group.
                if (endPoint.Port == 0) endPoint = (IPEndPoint)s.LocalEndPoint!;
            }
        }
        catch (Exception e)
        {
            foreach (var s in _sockets) s.Dispose();
            _sockets.Clear();
            // The operator needs the listener and the address, not only "Address already in use".
            if (e is System.Net.Sockets.SocketException se) throw new IOException($"{Name}: cannot listen on {endPoint}: {se.Message}", se);
            throw;
        }
        LocalEndPoint = endPoint;
        _started = true;
        foreach (var s in _sockets) _loops.Add(Task.Run(() => AcceptLoopAsync(s)));
        _ctx.Log.Listening(Name, endPoint.ToString(), workers, _ctx.DataPath.Name);
    }

    async Task AcceptLoopAsync(Socket listen)
    {
        var ct = _stopping.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listen.AcceptAsync(ct).ConfigureAwait(false);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable or SocketError.ConnectionAborted)
                {
                    // Out of descriptors or memory (or a client gone before accept): the connection waits
                    // in the backlog; a short pause keeps the loop from spinning until some close.
                    _ctx.Log.AcceptFailed(Name, e.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(50), _ctx.Time, ct).ConfigureAwait(false);
                    continue;
                }
                long id = Interlocked.Increment(ref _nextSession);
                var sessionEnd = CancellationTokenSource.CreateLinkedTokenSource(ct, Volatile.Read(ref _drop).Token);
                var session = RunSessionAsync(id, new ProxySession(client, _ctx), sessionEnd);
                _sessions[id] = session;
                // A session that ended before it was added removes nothing; take it out here.
                if (session.IsCompleted) _sessions.TryRemove(id, out _);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (ObjectDisposedException) when (ct.IsCancellationRequested) { }
        catch (Exception e)
        {
            Interlocked.Increment(ref _failedLoops);
            _ctx.Log.AcceptFailed(Name, $"accept loop ended: {e.Message}");
        }
    }

    async Task RunSessionAsync(long id, ProxySession session, CancellationTokenSource end)
    {
        await Task.Yield();
        try
        {
            await session.RunAsync(end.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // A bug in one session must not take the listener down; it is logged and counted.
            _ctx.Stats.CountClose("internal_error");
            _ctx.Log.AcceptFailed(Name, $"session failed: {e}");
        }
        finally
        {
            _sessions.TryRemove(id, out _);
            end.Dispose();
        }
    }

    /// <summary>
    /// Ends every session open now and keeps accepting; returns how many there were. For a VIP that
    /// moved to another node: its clients' packets now reach the other node, so these sessions can only
    /// hold their servers' backends (and their transactions' locks) until a timeout.
    /// </summary>
    public int DropSessions()
    {
        var old = Interlocked.Exchange(ref _drop, new CancellationTokenSource());
        var open = _sessions.Count;
        old.Cancel();
        return open;
    }

    /// <summary>Stops accepting, ends every session (their sockets closed, leases given back) and waits for them.</summary>
    public async Task StopAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var s in _sockets) s.Dispose();
        await Task.WhenAll(_loops).ConfigureAwait(false);
        var sessions = _sessions.Values.ToArray();
        await Task.WhenAll(sessions).ConfigureAwait(false);
        _ctx.Log.Stopped(Name, sessions.Length);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _drop.Dispose();
    }
}
