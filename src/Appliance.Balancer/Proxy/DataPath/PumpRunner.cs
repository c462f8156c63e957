using System.Net.Sockets;

namespace Appliance.Balancer.Proxy.DataPath;

/// <summary>
/// What every data path shares: two directions run at once, and one watcher turns their ends, the timeouts
/// and the shutdown token into the session's end. It wakes only when a direction ends, a deadline passes
/// or the token fires (not per byte); the directions stamp their last activity and it compares.
/// </summary>
internal static class PumpRunner
{
    /// <summary>
    /// Runs both directions with <paramref name="move"/>. <paramref name="moved"/>, for a path whose bytes
    /// the kernel moves unseen, reads how many bytes each direction moved so far (true: from the client):
    /// the watcher reads it before judging a timeout, so the activity stamps are fresh.
    /// </summary>
    public static async Task<PumpEnd> RunAsync(Socket client, Socket server, PumpTimeouts timeouts, PumpCounters counters,
        TimeProvider time, MoveAsync move, CancellationToken shutdown, Func<bool, long>? moved = null)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
        var up = new Flow(fromClient: true, counters, time, moved);
        var down = new Flow(fromClient: false, counters, time, moved);
        using var live = moved is null ? null : counters.Live(() => { up.Refresh(); down.Refresh(); });
        var upTask = move(client, server, up, stop.Token);
        var downTask = move(server, client, down, stop.Token);
        long? clientFinAt = null, serverFinAt = null;
        PumpEnd? end = null;
        while (end is null)
        {
            if (clientFinAt is null && upTask.IsCompleted)
            {
                switch (await upTask)
                {
                    case FlowEnd.Fin: clientFinAt = time.GetTimestamp(); break;
                    case FlowEnd.SourceReset: end = PumpEnd.ClientReset; break;
                    case FlowEnd.DestinationReset: end = PumpEnd.ServerReset; break;
                    default: end = PumpEnd.Shutdown; break;
                }
            }
            if (end is null && serverFinAt is null && downTask.IsCompleted)
            {
                switch (await downTask)
                {
                    case FlowEnd.Fin: serverFinAt = time.GetTimestamp(); break;
                    case FlowEnd.SourceReset: end = PumpEnd.ServerReset; break;
                    case FlowEnd.DestinationReset: end = PumpEnd.ClientReset; break;
                    default: end = PumpEnd.Shutdown; break;
                }
            }
            if (end is not null) break;
            if (clientFinAt is not null && serverFinAt is not null) { end = PumpEnd.Closed; break; }
            if (shutdown.IsCancellationRequested) { end = PumpEnd.Shutdown; break; }

            up.Refresh();
            down.Refresh();
            var (due, which) = NextDeadline(timeouts, up, down, clientFinAt, serverFinAt, time);
            var wait = due is null ? Timeout.InfiniteTimeSpan : time.GetElapsedTime(time.GetTimestamp(), due.Value);
            if (wait != Timeout.InfiniteTimeSpan && wait <= TimeSpan.Zero) { end = which; break; }

            using var delayStop = CancellationTokenSource.CreateLinkedTokenSource(shutdown);
            var delay = Task.Delay(wait, time, delayStop.Token);
            await Task.WhenAny(clientFinAt is null ? upTask : delay, serverFinAt is null ? (Task)downTask : delay, delay).ConfigureAwait(false);
            await delayStop.CancelAsync().ConfigureAwait(false);
            // A passed deadline is re-evaluated at the top with fresh activity stamps: bytes that moved
            // meanwhile push it out rather than end the session.
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(upTask, downTask).ConfigureAwait(false);
        up.Refresh();
        down.Refresh();
        if (end != PumpEnd.Closed)
        {
            // Reset propagation, and no half-sent stream left to look complete: an abnormal end closes
            // both sides with RST (linger 0) once the caller disposes the sockets.
            Abort(client);
            Abort(server);
        }
        return end.Value;
    }

    /// <summary>The earliest deadline that applies now, and the end it brings. Timestamps are in <paramref name="time"/>'s units.</summary>
    static (long? Due, PumpEnd Which) NextDeadline(PumpTimeouts t, Flow up, Flow down, long? clientFinAt, long? serverFinAt, TimeProvider time)
    {
        long? due = null;
        var which = PumpEnd.Closed;
        void Consider(long from, TimeSpan after, PumpEnd end)
        {
            if (after <= TimeSpan.Zero) return;
            long at = from + (long)(after.TotalSeconds * time.TimestampFrequency);
            if (due is null || at < due) { due = at; which = end; }
        }
        // client_timeout/server_timeout watch a side that may still send; after its FIN, the other side's
        // remaining sending is bounded by the fin timeout instead.
        if (clientFinAt is null) Consider(up.LastActive, t.Client, PumpEnd.ClientTimeout);
        else Consider(clientFinAt.Value, t.ClientFin, PumpEnd.ClientFinTimeout);
        if (serverFinAt is null) Consider(down.LastActive, t.Server, PumpEnd.ServerTimeout);
        else Consider(serverFinAt.Value, t.ServerFin, PumpEnd.ServerFinTimeout);
        Consider(Math.Max(up.LastActive, down.LastActive), t.Idle, PumpEnd.IdleTimeout);
        return (due, which);
    }

    /// <summary>Linger 0: the socket resets when it is closed.</summary>
    public static void Abort(Socket s)
    {
        try { s.LingerState = new LingerOption(true, 0); }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }
}
