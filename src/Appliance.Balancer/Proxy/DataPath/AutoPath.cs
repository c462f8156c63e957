using System.Net.Sockets;

namespace Appliance.Balancer.Proxy.DataPath;

/// <summary>
/// <c>data_path = "auto"</c>: picks a path per session, by what bench/README.md measured on 2 cores.
/// sockmap had the shortest round trip while few sessions were busy (pgbench <c>-S</c>, 1 client: 0.82
/// of direct against copy's 0.70; TPC-B, 1 client: 1.02 against 0.72) and fell behind the copy loop
/// once the cores were busy (<c>-S</c>, 8 and 32 clients: 0.54 and 0.52 against 0.61 and 0.67): each
/// redirect runs in a kernel worker that competes with PostgreSQL for the cores. So a new session takes
/// sockmap while at most <see cref="SockmapUpTo"/> sessions of the balancer's <c>auto</c> listeners
/// move bytes (they share the cores), and copy beyond that; a session keeps its path for life.
/// </summary>
internal sealed class AutoPath(IDataPath sockmap, IDataPath copy) : IDataPath
{
    /// <summary>Sessions at once (this one included) up to which a new session takes sockmap: one per core.</summary>
    public static int SockmapUpTo => Environment.ProcessorCount;

    int _active;

    public string Name => "auto";

    public async Task<PumpEnd> PumpAsync(Socket client, Socket server, PumpTimeouts timeouts, PumpCounters counters, CancellationToken shutdown)
    {
        int now = Interlocked.Increment(ref _active);
        try
        {
            var path = now <= SockmapUpTo ? sockmap : copy;
            return await path.PumpAsync(client, server, timeouts, counters, shutdown).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }
}
