using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Appliance.Balancer.Proxy.DataPath;
using Appliance.Balancer.Proxy.Pools;
using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Sessions;

/// <summary>
/// One client connection from accept to close: read its first packet within <c>startup_timeout</c>,
/// answer or pass on an SSLRequest/GSSENCRequest, forward a CancelRequest, or take a server from the pool
/// for a StartupMessage and hand both sockets to the data path. Every abnormal end is one log line and one
/// counted reason; the lease and both sockets are disposed on every path.
/// </summary>
internal sealed class ProxySession(Socket client, SessionContext ctx)
{
    /// <summary>SSLRequest then GSSENCRequest (libpq with gssencmode=prefer and sslmode=prefer) is the most a client negotiates.</summary>
    const int MaxNegotiations = 2;

    readonly string _clientName = client.RemoteEndPoint?.ToString() ?? "?";
    PoolLease? _lease;
    Socket? _server;

    public async Task RunAsync(CancellationToken stopping)
    {
        ctx.Stats.SessionStarted();
        var buffer = ArrayPool<byte>.Shared.Rent(StartupPacket.MaxStartupPacketLength);
        try
        {
            client.NoDelay = true;
            await RunCoreAsync(buffer, stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            Close(stopping.IsCancellationRequested ? "stopping" : "client_reset", e.Message);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            Close("stopping", "the listener stops");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (_server is not null)
            {
                _server.Dispose();
                _lease?.Stats.SessionEnded();
            }
            _lease?.Dispose();
            client.Dispose();
            ctx.Stats.SessionEnded();
        }
    }

    async Task RunCoreAsync(byte[] buffer, CancellationToken stopping)
    {
        int have = 0;
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        if (ctx.Proxy.StartupTimeout > TimeSpan.Zero) startup.CancelAfter(ctx.Proxy.StartupTimeout);
        for (int negotiations = 0; ; negotiations++)
        {
            var (packet, got) = await ReadFirstPacketAsync(buffer, have, startup.Token, stopping).ConfigureAwait(false);
            have = got;
            if (packet is null) return;
            var p = packet.Value;
            switch (p.Kind)
            {
                case StartupKind.Invalid:
                    Close("bad_startup", $"{p.Reason} ({p.Label})");
                    return;
                case StartupKind.CancelRequest:
                    await ForwardCancelAsync(buffer.AsMemory(0, p.Length), stopping).ConfigureAwait(false);
                    return;
                case StartupKind.SslRequest or StartupKind.GssEncRequest when negotiations >= MaxNegotiations:
                    Close("bad_startup", "a third encryption request");
                    return;
                case StartupKind.SslRequest or StartupKind.GssEncRequest when ctx.RefuseEncryption:
                    await client.SendAsync("N"u8.ToArray(), SocketFlags.None, startup.Token).ConfigureAwait(false);
                    have = Consume(buffer, have, p.Length);
                    continue;
                case StartupKind.SslRequest or StartupKind.GssEncRequest:
                    if (_server is null && !await ConnectAsync(stopping).ConfigureAwait(false)) return;
                    byte? answer = await AskServerAsync(buffer.AsMemory(0, p.Length), startup.Token).ConfigureAwait(false);
                    if (answer is null) return;
                    await client.SendAsync(new[] { answer.Value }, SocketFlags.None, startup.Token).ConfigureAwait(false);
                    have = Consume(buffer, have, p.Length);
                    if (answer == (byte)'N') continue;
                    // 'S' or 'G': the TLS or GSS handshake follows, opaque to the proxy.
                    await PumpAsync(buffer.AsMemory(0, have), stopping).ConfigureAwait(false);
                    return;
                default:
                    if (await StartAsync(buffer.AsMemory(0, have), stopping).ConfigureAwait(false) is not { } reply) return;
                    await PumpAsync(ReadOnlyMemory<byte>.Empty, stopping, reply, sentToServer: have).ConfigureAwait(false);
                    return;
            }
        }
    }

    /// <summary>Reads until the buffer starts with a whole first packet; null (after closing with a reason) when the client fails to send one.</summary>
    async Task<(StartupPacket? Packet, int Have)> ReadFirstPacketAsync(byte[] buffer, int have, CancellationToken startup, CancellationToken stopping)
    {
        while (true)
        {
            var p = StartupPacket.Classify(buffer.AsSpan(0, have));
            if (p.Kind != StartupKind.Incomplete) return (p, have);
            int n;
            try
            {
                n = await client.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None, startup).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                Close("startup_timeout", $"no complete first packet within {ctx.Proxy.StartupTimeout.TotalSeconds:0.###} s ({have} bytes received)");
                return (null, have);
            }
            if (n == 0)
            {
                Close("client_closed", $"closed by the client before its first packet was complete ({have} bytes received)");
                return (null, have);
            }
            have += n;
        }
    }

    static int Consume(byte[] buffer, int have, int length)
    {
        buffer.AsSpan(length, have - length).CopyTo(buffer);
        return have - length;
    }

    /// <summary>
    /// A server from the pool, connected within <c>connect_timeout</c>. A refused connect asks the pool once
    /// more, within <c>queue_timeout</c> of the first ask: a switchover may just have moved the primary.
    /// </summary>
    async Task<bool> ConnectAsync(CancellationToken stopping)
    {
        var clientAddress = (client.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        long asked = ctx.Time.GetTimestamp();
        for (int attempt = 0; ; attempt++)
        {
            using var queue = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            if (attempt > 0) queue.CancelAfter(ctx.Proxy.QueueTimeout - ctx.Time.GetElapsedTime(asked));
            PoolAcquire acquired;
            try
            {
                acquired = await ctx.Pool.AcquireAsync(clientAddress, queue.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                Close("queue_timeout", "no server again within queue_timeout after a refused connect");
                return false;
            }
            if (acquired.Lease is not { } lease)
            {
                Close(acquired.Reason, acquired.Refusal);
                return false;
            }
            var backend = lease.Backend;
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            long started = ctx.Time.GetTimestamp();
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(stopping, lease.Shutdown);
            if (ctx.Proxy.ConnectTimeout > TimeSpan.Zero) connect.CancelAfter(ctx.Proxy.ConnectTimeout);
            string error;
            bool refused = false;
            try
            {
                await server.ConnectAsync(backend.Host, backend.Port, connect.Token).ConfigureAwait(false);
                lease.Stats.Connected(ctx.Time.GetElapsedTime(started));
                lease.Stats.SessionStarted();
                _lease = lease;
                _server = server;
                return true;
            }
            catch (SocketException e)
            {
                refused = e.SocketErrorCode == SocketError.ConnectionRefused;
                error = e.Message;
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                error = lease.Shutdown.IsCancellationRequested ? "the server left the pool" : $"no answer within connect_timeout ({ctx.Proxy.ConnectTimeout.TotalSeconds:0.###} s)";
            }
            finally
            {
                if (_server != server) server.Dispose();
            }
            lease.Stats.ConnectFailed();
            lease.Dispose();
            stopping.ThrowIfCancellationRequested();
            if (refused && attempt == 0 && ctx.Time.GetElapsedTime(asked) < ctx.Proxy.QueueTimeout)
            {
                ctx.Log.ConnectRetry(ctx.Listener, _clientName, Describe(backend), error);
                continue;
            }
            Close("connect_failed", $"{Describe(backend)}: {error}");
            return false;
        }
    }

    /// <summary>
    /// Sends the client's startup message and reads the server's first message. A PostgreSQL that is shutting
    /// down or starting up answers it at once with 57P03, before any authentication, so the client has lost
    /// nothing yet: the session drops that server and asks the pool again (a switchover moves the primary
    /// within moments), pausing <see cref="NotReadyPause"/> between tries, until <c>queue_timeout</c> has passed
    /// since the first ask; then the error goes to the client. Returns the server's first bytes to pass on,
    /// or null after closing with a reason.
    /// </summary>
    async Task<byte[]?> StartAsync(ReadOnlyMemory<byte> startup, CancellationToken stopping)
    {
        long asked = ctx.Time.GetTimestamp();
        while (true)
        {
            if (_server is null && !await ConnectAsync(stopping).ConfigureAwait(false)) return null;
            var (server, lease) = (_server!, _lease!);
            byte[] reply;
            try
            {
                await server.SendAsync(startup, SocketFlags.None, stopping).ConfigureAwait(false);
                if (await ServerSpeaksFirstAsync(server, lease, stopping).ConfigureAwait(false) is not { } serverFirst) return null;
                if (!serverFirst) return [];
                if (await FirstMessageAsync(server, lease, stopping).ConfigureAwait(false) is not { } got) return null;
                reply = got;
            }
            catch (SocketException e)
            {
                Close("server_reset", $"{Describe(lease.Backend)} during the startup: {e.Message}");
                return null;
            }
            var verdict = PgsqlCheck.Classify(reply);
            if (!(verdict is { Complete: true, FailedAt: CheckLayer.Server } && verdict.Detail.StartsWith(CannotConnectNow, StringComparison.Ordinal))
                || ctx.Time.GetElapsedTime(asked) + NotReadyPause >= ctx.Proxy.QueueTimeout)
                return reply;
            ctx.Log.NotReadyRetry(ctx.Listener, _clientName, Describe(lease.Backend), verdict.Detail);
            DropServer();
            await Task.Delay(NotReadyPause, ctx.Time, stopping).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A PostgreSQL server answers a startup message before the client says more. A client that speaks
    /// again first is not waiting for an answer (not PostgreSQL, or pipelining), so the session stops
    /// looking and just moves bytes: waiting for the server would deadlock a server that waits for the
    /// client. Zero-byte receives wait for data without taking it.
    /// </summary>
    /// <returns>True when the server spoke first, false when the client did; null (after closing with a reason) when neither did within <c>server_timeout</c> or the server left the pool.</returns>
    async Task<bool?> ServerSpeaksFirstAsync(Socket server, PoolLease lease, CancellationToken stopping)
    {
        using var race = CancellationTokenSource.CreateLinkedTokenSource(stopping, lease.Shutdown);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(race.Token);
        if (ctx.Proxy.ServerTimeout > TimeSpan.Zero) timeout.CancelAfter(ctx.Proxy.ServerTimeout);
        var serverReady = server.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timeout.Token).AsTask();
        var clientReady = client.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timeout.Token).AsTask();
        var first = await Task.WhenAny(serverReady, clientReady).ConfigureAwait(false);
        var timedOut = timeout.IsCancellationRequested;
        await race.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(serverReady, clientReady).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            // The loser was cancelled, or a side reset: the next real receive reports it.
        }
        stopping.ThrowIfCancellationRequested();
        if (lease.Shutdown.IsCancellationRequested)
        {
            Close("shutdown_sessions", $"{Describe(lease.Backend)} left the pool");
            return null;
        }
        if (timedOut && !first.IsCompletedSuccessfully)
        {
            Close("server_timeout", $"{Describe(lease.Backend)} did not answer the startup message within server_timeout");
            return null;
        }
        return first == serverReady;
    }

    /// <summary>SQLSTATE cannot_connect_now: starting up, shutting down, in recovery without hot standby.</summary>
    const string CannotConnectNow = "57P03:";
    static readonly TimeSpan NotReadyPause = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// One read of what the server sent first, within <c>server_timeout</c>. PostgreSQL's answer to a startup
    /// message is a few dozen bytes in one segment; whatever one read brings is passed on as it is, so a
    /// server that sends part of something and waits is never waited for.
    /// </summary>
    async Task<byte[]?> FirstMessageAsync(Socket server, PoolLease lease, CancellationToken stopping)
    {
        var buffer = new byte[8192];
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stopping, lease.Shutdown);
        if (ctx.Proxy.ServerTimeout > TimeSpan.Zero) wait.CancelAfter(ctx.Proxy.ServerTimeout);
        try
        {
            int n = await server.ReceiveAsync(buffer, SocketFlags.None, wait.Token).ConfigureAwait(false);
            if (n > 0) return buffer[..n];
            Close("server_reset", $"{Describe(lease.Backend)} closed without answering the startup message");
            return null;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            if (lease.Shutdown.IsCancellationRequested) Close("shutdown_sessions", $"{Describe(lease.Backend)} left the pool");
            else Close("server_timeout", $"{Describe(lease.Backend)} did not answer the startup message within server_timeout");
            return null;
        }
    }

    void DropServer()
    {
        _server!.Dispose();
        _lease!.Stats.SessionEnded();
        _lease.Dispose();
        (_server, _lease) = (null, null);
    }

    /// <summary>Sends an encryption request to the server and returns its one-byte answer (null after closing with a reason).</summary>
    async Task<byte?> AskServerAsync(ReadOnlyMemory<byte> request, CancellationToken ct)
    {
        var server = _server!;
        var answer = new byte[1];
        try
        {
            await server.SendAsync(request, SocketFlags.None, ct).ConfigureAwait(false);
            if (await server.ReceiveAsync(answer, SocketFlags.None, ct).ConfigureAwait(false) == 1) return answer[0];
            Close("server_reset", "the server closed instead of answering the encryption request");
        }
        catch (SocketException e)
        {
            Close("server_reset", $"asking the server about encryption: {e.Message}");
        }
        catch (OperationCanceledException) when (_lease!.Shutdown.IsCancellationRequested)
        {
            Close("shutdown_sessions", "the server left the pool");
        }
        catch (OperationCanceledException)
        {
            Close("server_timeout", "no answer to the encryption request within startup_timeout");
        }
        return null;
    }

    /// <summary>Sends the bytes already read to the server (and those already read from it to the client), then lets the data path move the rest until the session ends. <paramref name="sentToServer"/>: client bytes the startup already delivered, counted here with the rest.</summary>
    async Task PumpAsync(ReadOnlyMemory<byte> pending, CancellationToken stopping, byte[]? fromServer = null, int sentToServer = 0)
    {
        var server = _server!;
        var lease = _lease!;
        var counters = new PumpCounters(ctx.Stats, lease.Stats);
        counters.FromClient(sentToServer);
        if (fromServer is { Length: > 0 })
        {
            await client.SendAsync(fromServer, SocketFlags.None, stopping).ConfigureAwait(false);
            counters.FromServer(fromServer.Length);
        }
        if (!pending.IsEmpty)
        {
            try
            {
                await server.SendAsync(pending, SocketFlags.None, stopping).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                Close("server_reset", e.Message);
                return;
            }
            counters.FromClient(pending.Length);
        }
        using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(stopping, lease.Shutdown);
        var end = await ctx.DataPath.PumpAsync(client, server, ctx.Timeouts, counters, shutdown.Token).ConfigureAwait(false);
        switch (end)
        {
            case PumpEnd.Closed:
                ctx.Log.SessionEnded(ctx.Listener, _clientName, Describe(lease.Backend), "both sides closed");
                break;
            case PumpEnd.Shutdown when lease.Shutdown.IsCancellationRequested:
                Close("shutdown_sessions", $"{Describe(lease.Backend)} left the pool");
                break;
            case PumpEnd.Shutdown:
                Close("stopping", "the listener stops");
                break;
            default:
                Close(end.Label(), $"via {Describe(lease.Backend)}");
                break;
        }
    }

    /// <summary>Forwards a CancelRequest to every server of the pool (PostgreSQL ignores a key it does not know) and closes.</summary>
    async Task ForwardCancelAsync(ReadOnlyMemory<byte> request, CancellationToken stopping)
    {
        var targets = ctx.Pool.CancelTargets;
        var sends = new Task[targets.Count];
        for (int i = 0; i < targets.Count; i++) sends[i] = SendCancelAsync(targets[i], request, stopping);
        await Task.WhenAll(sends).ConfigureAwait(false);
        ctx.Log.CancelForwarded(ctx.Listener, _clientName, targets.Count);
    }

    async Task SendCancelAsync(Backend target, ReadOnlyMemory<byte> request, CancellationToken stopping)
    {
        using var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        if (ctx.Proxy.ConnectTimeout > TimeSpan.Zero) timeout.CancelAfter(ctx.Proxy.ConnectTimeout);
        try
        {
            await s.ConnectAsync(target.Host, target.Port, timeout.Token).ConfigureAwait(false);
            await s.SendAsync(request, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            // PostgreSQL closes after reading the request; waiting for that keeps the server from seeing
            // a reset before it read the key.
            await s.ReceiveAsync(new byte[1], SocketFlags.None, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            ctx.Log.CancelFailed(ctx.Listener, Describe(target), e.Message);
        }
    }

    void Close(string reason, string detail)
    {
        ctx.Stats.CountClose(reason);
        ctx.Log.SessionClosed(ctx.Listener, _clientName, reason, detail);
    }

    static string Describe(Backend b) => $"{b.Name} ({b.Host}:{b.Port})";
}
