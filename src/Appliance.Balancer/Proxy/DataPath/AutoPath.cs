using System.Net.Sockets;

namespace Appliance.Balancer.Proxy.DataPath;

/// <summary>
/// <c>data_path = "auto"</c>: picks a path per session by the policy bench/README.md's numbers chose:
/// sockmap while few sessions are moving bytes at once (its round trip is the shortest), the copy loop
/// beyond that (the kernel worker that runs each redirect costs more than a user-space copy once the
/// cores are busy).
/// </summary>
internal sealed class AutoPath(IDataPath sockmap, IDataPath copy) : IDataPath
{
    /// <summary>Sessions at once up to which new sessions take the sockmap path.</summary>
    public const int SockmapUpTo = int.MaxValue;

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
