using System.Buffers;
using System.Net.Sockets;
using Appliance.Linux.Net;
using static Tmds.Linux.LibC;

namespace Appliance.Balancer.Proxy.DataPath.Sockmap;

/// <summary>
/// One session's two sockets in the sockmap. While both are in it the kernel moves every byte and user
/// space only waits for each side's end; bytes the verdict leaves on a socket (they arrived before its
/// peer was in the map) user space forwards itself, in order, and the kernel redirects again once it
/// caught up (native/sockmap/sockmap.h). Bytes that arrived before a socket went in reach the verdict
/// once it is nudged. A FIN is held until the other socket has taken every byte sent its way (the verdict
/// counts them; the socket's written-byte count says how many it took), then passed on.
/// </summary>
internal sealed class SockmapPair : IDisposable
{
    /// <summary>How often a held FIN, or bytes the verdict has not seen yet, are looked at again.</summary>
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(1);

    readonly SockmapKernel _kernel;
    readonly EpollWaiter _waiter;
    readonly Socket _client;
    readonly Side _clientSide, _serverSide;

    /// <summary>One socket: its cookie, whether the map took it, and what user space wrote into it before the kernel could.</summary>
    sealed record Side(ulong Cookie, bool InMap, long WrittenBefore);

    SockmapPair(SockmapKernel kernel, EpollWaiter waiter, Socket client, Side clientSide, Side serverSide)
        => (_kernel, _waiter, _client, _clientSide, _serverSide) = (kernel, waiter, client, clientSide, serverSide);

    /// <summary>What attaching came to: a pair; or no pair and why (the user-space path takes the session); or the session's end when a side reset meanwhile.</summary>
    public readonly record struct Attached(SockmapPair? Pair, string Why, PumpEnd? End);

    /// <summary>
    /// Puts both sockets in the map, the client first, after forwarding what is queued on them. No
    /// pair (with the reason, nothing left in the maps) when the client cannot go in. A server that
    /// cannot go in (it closed meanwhile) leaves a half pair: its direction is copied in user space.
    /// </summary>
    public static async Task<Attached> TryAttachAsync(SockmapKernel kernel, EpollWaiter waiter, Socket client, Socket server, PumpCounters counters, CancellationToken ct)
    {
        // What is queued now is forwarded here first: the verdict takes whole skbs, so one the session
        // read part of (its startup reads) would reach the peer again from its start.
        foreach (var (from, to, fromClient, count) in new[] { (client, server, true, (Action<long>)counters.FromClient), (server, client, false, counters.FromServer) })
        {
            var drained = await DrainAsync(from, to, count, ct).ConfigureAwait(false);
            if (drained != Drain.Empty) return NotAttached(drained, fromClient);
        }
        if (BeforeInsertForTests is { } hook) await hook(client, server).ConfigureAwait(false);
        int c = (int)client.Handle, s = (int)server.Handle;
        long clientCookie = TcpSocketInfo.Cookie(c), serverCookie = TcpSocketInfo.Cookie(s);
        long clientWritten = TcpSocketInfo.BytesWritten(c), serverWritten = TcpSocketInfo.BytesWritten(s);
        long failed = Math.Min(Math.Min(clientCookie, serverCookie), Math.Min(clientWritten, serverWritten));
        if (failed < 0) return new(null, $"reading a socket's cookie or counters failed (errno {-failed})", null);
        ulong cc = (ulong)clientCookie, sc = (ulong)serverCookie;
        int r = 0;
        foreach (var (cookie, peer) in new[] { (cc, sc), (sc, cc) })
        {
            if (r == 0) r = kernel.Taken.TryUpdate(cookie, 0UL);
            if (r == 0) r = kernel.Peers.TryUpdate(cookie, new SockmapPeer { Peer = peer });
        }
        if (r == 0) r = kernel.Sockets.TryUpdate(cc, (uint)c, onlyNew: true);
        if (r != 0)
        {
            Forget(kernel, cc, sc);
            return new(null, r == -EOPNOTSUPP ? "the client's socket is no longer established" : $"the map refused the client's socket (errno {-r})", null);
        }
        bool serverIn = kernel.Sockets.TryUpdate(sc, (uint)s, onlyNew: true) == 0;
        // Bytes that arrived after the drain but before a socket went in wait for the next segment to
        // wake the verdict, which may never come (the sender waits for an answer): wake it now.
        _ = TcpSocketInfo.Nudge(c);
        if (serverIn) _ = TcpSocketInfo.Nudge(s);
        return new(new SockmapPair(kernel, waiter, client, new Side(cc, true, clientWritten), new Side(sc, serverIn, serverWritten)), "", null);
    }

    /// <summary>Tests only: runs between the drain and the insertion, where bytes that arrive must still reach the verdict.</summary>
    internal static Func<Socket, Socket, Task>? BeforeInsertForTests;

    enum Drain { Empty, Ended, SourceReset, DestinationReset, Busy }

    /// <summary>Why a drain from the client (or the server) keeps the session off the map, or how it ended it.</summary>
    static Attached NotAttached(Drain drained, bool fromClient)
    {
        string side = fromClient ? "client" : "server";
        return drained switch
        {
            Drain.SourceReset => new(null, "", fromClient ? PumpEnd.ClientReset : PumpEnd.ServerReset),
            Drain.DestinationReset => new(null, "", fromClient ? PumpEnd.ServerReset : PumpEnd.ClientReset),
            Drain.Ended => new(null, $"the {side} sent its FIN before the path took over", null),
            _ => new(null, $"the {side} kept sending while the path took over", null),
        };
    }

    /// <summary>Reads a drain makes before giving up on a side that keeps sending (the user-space path takes that session).</summary>
    const int MaxDrainReads = 64;

    /// <summary>Forwards what <paramref name="from"/> has queued until nothing is (<see cref="Drain.Empty"/>), or says what came first.</summary>
    static async Task<Drain> DrainAsync(Socket from, Socket to, Action<long> count, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CopyPath.BufferSize);
        try
        {
            for (int reads = 0; reads < MaxDrainReads; reads++)
            {
                int n = TcpSocketInfo.Read((int)from.Handle, buffer);
                if (n == -EAGAIN) return Drain.Empty;
                if (n == 0) return Drain.Ended;
                if (n < 0) return Drain.SourceReset;
                if (!await CopyPath.SendAllAsync(to, buffer.AsMemory(0, n), ct).ConfigureAwait(false)) return Drain.DestinationReset;
                count(n);
            }
            return Drain.Busy;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Bytes the kernel moved so far from the client (true) or from the server (what user space forwarded it counts itself).</summary>
    public long Moved(bool fromClient) => (long)Peer(fromClient ? _clientSide : _serverSide).Redirected;

    SockmapPeer Peer(Side side) => _kernel.Peers.TryLookup(side.Cookie, out SockmapPeer p) ? p : default;

    /// <summary>One direction, until the source's FIN (passed on once the destination took everything), a reset or cancellation.</summary>
    public Task<FlowEnd> MoveAsync(Socket from, Socket to, Flow flow, CancellationToken ct)
    {
        bool fromClient = ReferenceEquals(from, _client);
        var (source, destination) = fromClient ? (_clientSide, _serverSide) : (_serverSide, _clientSide);
        return source.InMap ? MoveInKernelAsync(from, to, source, destination, flow, ct) : CopyPath.MoveAsync(from, to, flow, ct);
    }

    async Task<FlowEnd> MoveInKernelAsync(Socket from, Socket to, Side source, Side destination, Flow flow, CancellationToken ct)
    {
        int fd = (int)from.Handle;
        long forwarded = 0;
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                // Bytes the verdict left on the socket (they came while the peer was not in the map) go
                // first. Asking the socket anything takes its lock, which waits out a verdict running now:
                // after it, the count says every byte left so far.
                _ = TcpSocketInfo.Unread(fd);
                while ((long)Peer(source).Passed > forwarded)
                {
                    await _waiter.ReadableAsync(fd, ct).ConfigureAwait(false);
                    buffer ??= ArrayPool<byte>.Shared.Rent(CopyPath.BufferSize);
                    int n = TcpSocketInfo.Read(fd, buffer);
                    if (n == -EAGAIN) continue;
                    if (n == 0) break; // the end of stream: handled below
                    if (n < 0) return FlowEnd.SourceReset;
                    flow.Active();
                    if (!await CopyPath.SendAllAsync(to, buffer.AsMemory(0, n), ct).ConfigureAwait(false)) return FlowEnd.DestinationReset;
                    flow.Delivered(n);
                    forwarded += n;
                    // Only now may the verdict redirect again: every earlier byte is in the destination.
                    _ = _kernel.Taken.TryUpdate(source.Cookie, (ulong)forwarded);
                    _ = TcpSocketInfo.Unread(fd);
                }
                // Then wait for the end only: EPOLLRDHUP without EPOLLIN is not woken by each message the
                // kernel moves.
                await _waiter.HangupAsync(fd, ct).ConfigureAwait(false);
                int peek = TcpSocketInfo.Peek(fd);
                if (peek == -EAGAIN || peek > 0) continue;
                if (peek < 0) return FlowEnd.SourceReset;
                // The end of stream. Bytes the verdict has not seen yet are still ahead of the FIN.
                if (TcpSocketInfo.Unread(fd) > 0)
                {
                    await Task.Delay(Poll, ct).ConfigureAwait(false);
                    continue;
                }
                break;
            }
            // Hold the FIN until the destination has taken every byte sent its way.
            int destinationFd = (int)to.Handle;
            while (true)
            {
                long written = TcpSocketInfo.BytesWritten(destinationFd);
                if (written < 0) return FlowEnd.DestinationReset;
                if (written - destination.WrittenBefore >= (long)Peer(source).Redirected + forwarded) break;
                await Task.Delay(Poll, ct).ConfigureAwait(false);
            }
            flow.Refresh();
            try { to.Shutdown(SocketShutdown.Send); }
            catch (SocketException) { return FlowEnd.DestinationReset; }
            return FlowEnd.Fin;
        }
        catch (OperationCanceledException) { return FlowEnd.Cancelled; }
        catch (ObjectDisposedException) { return FlowEnd.Cancelled; }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Takes both sockets out of the maps (closing them would too; this returns them to plain TCP first).</summary>
    public void Dispose()
    {
        _kernel.Sockets.Delete(_clientSide.Cookie);
        if (_serverSide.InMap) _kernel.Sockets.Delete(_serverSide.Cookie);
        Forget(_kernel, _clientSide.Cookie, _serverSide.Cookie);
    }

    static void Forget(SockmapKernel kernel, ulong a, ulong b)
    {
        foreach (var cookie in new[] { a, b })
        {
            kernel.Peers.Delete(cookie);
            kernel.Taken.Delete(cookie);
        }
    }
}
