using System.Net.Sockets;
using Appliance.Linux.Net;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy.DataPath.Sockmap;

/// <summary>
/// The eBPF path: the session's two sockets go into a SOCKHASH whose stream verdict redirects each
/// socket's bytes into the other's send queue, so a query's round trip never enters user space
/// (native/sockmap/sockmap.bpf.c). User space waits for each side's FIN or reset, reads the kernel's
/// byte counts for the timeouts and statistics, and takes the sockets out when the session ends. A
/// session whose client the map cannot take (its socket is no longer established) moves on
/// <paramref name="fallback"/> instead; the listener's statistics count sessions per path.
/// </summary>
internal sealed class SockmapPath(SockmapKernel kernel, IDataPath fallback, TimeProvider time, ILogger log) : IDataPath, IDisposable
{
    readonly EpollWaiter _waiter = new("sockmap-end");

    public string Name => "sockmap";

    public async Task<PumpEnd> PumpAsync(Socket client, Socket server, PumpTimeouts timeouts, PumpCounters counters, CancellationToken shutdown)
    {
        SockmapPair.Attached attached;
        try
        {
            attached = await SockmapPair.TryAttachAsync(kernel, _waiter, client, server, counters, shutdown).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return PumpEnd.Shutdown;
        }
        if (attached.End is { } end)
        {
            counters.OnPath(Name);
            PumpRunner.Abort(client);
            PumpRunner.Abort(server);
            return end;
        }
        using var pair = attached.Pair;
        if (pair is null)
        {
            log.SockmapSessionFallback(fallback.Name, attached.Why);
            return await fallback.PumpAsync(client, server, timeouts, counters, shutdown).ConfigureAwait(false);
        }
        counters.OnPath(Name);
        return await PumpRunner.RunAsync(client, server, timeouts, counters, time, pair.MoveAsync, shutdown, pair.Moved).ConfigureAwait(false);
    }

    public void Dispose() => _waiter.Dispose();
}
