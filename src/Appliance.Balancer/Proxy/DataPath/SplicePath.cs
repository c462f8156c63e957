using System.Net.Sockets;
using Appliance.Linux.Net;
using static Tmds.Linux.LibC;

namespace Appliance.Balancer.Proxy.DataPath;

/// <summary>
/// The zero-copy path: per direction one pipe, socket → pipe → socket by splice(2) with
/// SPLICE_F_MOVE|SPLICE_F_NONBLOCK, the pipe emptied before the next read (backpressure: at most one pipe,
/// 64 KB, in flight). Waiting: for readability a zero-byte ReceiveAsync, so the runtime's own epoll
/// thread and cancellation serve us with no registration of ours; the runtime has no "wait until
/// writable", so a full send buffer waits in <see cref="EpollWaiter"/>'s epoll (one thread for all
/// sessions, one-shot EPOLLOUT). The sockets' descriptors are used by number, so the pump never lets a
/// direction outlive its call: the caller closes the sockets only after both directions stopped.
/// </summary>
public sealed class SplicePath(TimeProvider time) : IDataPath, IDisposable
{
    readonly EpollWaiter _writable = new("splice-writable");

    public string Name => "splice";

    public Task<PumpEnd> PumpAsync(Socket client, Socket server, PumpTimeouts timeouts, PumpCounters counters, CancellationToken shutdown)
    {
        counters.OnPath(Name);
        SplicePipe.SetNonBlocking((int)client.Handle);
        SplicePipe.SetNonBlocking((int)server.Handle);
        return PumpRunner.RunAsync(client, server, timeouts, counters, time, MoveAsync, shutdown);
    }

    async Task<FlowEnd> MoveAsync(Socket from, Socket to, Flow flow, CancellationToken ct)
    {
        using var pipe = new SplicePipe();
        int source = (int)from.Handle, destination = (int)to.Handle;
        try
        {
            while (true)
            {
                long n = pipe.FromSocket(source, SplicePipe.Capacity);
                if (n == -EAGAIN)
                {
                    try { await from.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, ct).ConfigureAwait(false); }
                    catch (SocketException) { return FlowEnd.SourceReset; }
                    continue;
                }
                if (n < 0) return FlowEnd.SourceReset;
                if (n == 0)
                {
                    // The pipe was emptied into the destination before this read: every byte is delivered.
                    try { to.Shutdown(SocketShutdown.Send); }
                    catch (SocketException) { return FlowEnd.DestinationReset; }
                    return FlowEnd.Fin;
                }
                flow.Active();
                for (long left = n; left > 0;)
                {
                    long m = pipe.ToSocket(destination, (int)left);
                    if (m > 0) { left -= m; flow.Delivered(m); }
                    else if (m == -EAGAIN || m == 0) await _writable.WritableAsync(destination, ct).ConfigureAwait(false);
                    else return FlowEnd.DestinationReset;
                }
            }
        }
        catch (OperationCanceledException) { return FlowEnd.Cancelled; }
        catch (ObjectDisposedException) { return FlowEnd.Cancelled; }
    }

    public void Dispose() => _writable.Dispose();
}
