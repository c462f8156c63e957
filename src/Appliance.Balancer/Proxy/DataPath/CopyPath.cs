using System.Buffers;
using System.Net.Sockets;

namespace Appliance.Balancer.Proxy.DataPath;

/// <summary>
/// The user-space path: per direction, receive into one pooled buffer and send it all before receiving
/// again (that is the backpressure: one buffer in flight), on the runtime's epoll-based socket engine. The
/// measurement in FACTS.md found a lean copy loop faster than splice on loopback under load.
/// </summary>
public sealed class CopyPath(TimeProvider time) : IDataPath
{
    /// <summary>Bytes per direction in flight; HAProxy's default bufsize is 16 KB, PostgreSQL sends in 8 KB.</summary>
    public const int BufferSize = 32 * 1024;

    public string Name => "copy";

    public Task<PumpEnd> PumpAsync(Socket client, Socket server, PumpTimeouts timeouts, PumpCounters counters, CancellationToken shutdown)
    {
        counters.OnPath(Name);
        return PumpRunner.RunAsync(client, server, timeouts, counters, time, MoveAsync, shutdown);
    }

    /// <summary>One direction in user space (also what the sockmap path uses for a socket the map did not take).</summary>
    internal static async Task<FlowEnd> MoveAsync(Socket from, Socket to, Flow flow, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int n;
                try { n = await from.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false); }
                catch (SocketException) { return FlowEnd.SourceReset; }
                if (n == 0)
                {
                    // Every byte before the FIN has been sent (each send completes before the next receive).
                    try { to.Shutdown(SocketShutdown.Send); }
                    catch (SocketException) { return FlowEnd.DestinationReset; }
                    return FlowEnd.Fin;
                }
                flow.Active();
                if (!await SendAllAsync(to, buffer.AsMemory(0, n), ct).ConfigureAwait(false)) return FlowEnd.DestinationReset;
                flow.Delivered(n);
            }
        }
        catch (OperationCanceledException) { return FlowEnd.Cancelled; }
        catch (ObjectDisposedException) { return FlowEnd.Cancelled; }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends every byte (a send may take fewer); false when the destination failed (reset or gone).</summary>
    internal static async Task<bool> SendAllAsync(Socket to, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        try
        {
            for (int sent = 0; sent < bytes.Length;)
                sent += await to.SendAsync(bytes[sent..], SocketFlags.None, ct).ConfigureAwait(false);
            return true;
        }
        catch (SocketException) { return false; }
    }
}
