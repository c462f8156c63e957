namespace Appliance.Balancer.Proxy.DataPath;

/// <summary>How one direction of a pump ended.</summary>
internal enum FlowEnd
{
    /// <summary>The source sent its FIN; it was passed on after every byte.</summary>
    Fin,
    /// <summary>Reading the source failed: it reset.</summary>
    SourceReset,
    /// <summary>Writing the destination failed: it reset or is gone.</summary>
    DestinationReset,
    /// <summary>The pump stopped it.</summary>
    Cancelled,
}

/// <summary>
/// One direction's bookkeeping: when its source last sent, and where its bytes are counted. A path
/// whose bytes the kernel moves gives <paramref name="moved"/> (its running total per direction),
/// and <see cref="Refresh"/> turns growth of it into activity and counted bytes.
/// </summary>
internal sealed class Flow(bool fromClient, PumpCounters counters, TimeProvider time, Func<bool, long>? moved = null)
{
    long _lastActive = time.GetTimestamp();
    long _seen;

    public bool FromClient { get; } = fromClient;

    /// <summary>The source sent something (a timestamp, for the client/server/idle timeouts).</summary>
    public void Active() => Volatile.Write(ref _lastActive, time.GetTimestamp());

    /// <summary>Bytes were delivered to the destination.</summary>
    public void Delivered(long bytes)
    {
        if (FromClient) counters.FromClient(bytes);
        else counters.FromServer(bytes);
    }

    public long LastActive => Volatile.Read(ref _lastActive);

    /// <summary>Reads the kernel's count (if the path has one): bytes moved since the last look are activity now, and delivered.</summary>
    public void Refresh()
    {
        if (moved is null) return;
        long total = moved(FromClient), seen;
        do
        {
            seen = Volatile.Read(ref _seen);
            if (total <= seen) return;
        }
        while (Interlocked.CompareExchange(ref _seen, total, seen) != seen);
        Active();
        Delivered(total - seen);
    }
}

/// <summary>Moves one direction, source to destination, until it ends.</summary>
internal delegate Task<FlowEnd> MoveAsync(System.Net.Sockets.Socket from, System.Net.Sockets.Socket to, Flow flow, CancellationToken ct);
