using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Appliance.Linux.Net;

/// <summary>
/// An eventfd that another thread signals to wake a loop blocked in <see cref="WaitReadable"/>:
/// the speaker sleeps in poll(2) on its socket and this, until a packet, a signal or its next deadline.
/// </summary>
public sealed unsafe class Wakeup : IDisposable
{
    /// <summary>The descriptor, for poll(2).</summary>
    public int Fd { get; }

    public Wakeup()
    {
        Fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (Fd < 0) throw new NetException("eventfd", errno);
    }

    /// <summary>Wakes the waiter (from any thread).</summary>
    public void Signal()
    {
        ulong one = 1;
        _ = write(Fd, &one, sizeof(ulong));
    }

    /// <summary>Clears pending signals.</summary>
    public void Drain()
    {
        ulong value;
        _ = read(Fd, &value, sizeof(ulong));
    }

    /// <summary>
    /// Blocks until <paramref name="fdA"/> or <paramref name="fdB"/> is readable or
    /// <paramref name="timeout"/> passes; returns bit 0 for A, bit 1 for B (0 on timeout or EINTR).
    /// </summary>
    public static int WaitReadable(int fdA, int fdB, TimeSpan timeout)
    {
        var fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = fdA, events = (short)POLLIN };
        fds[1] = new pollfd { fd = fdB, events = (short)POLLIN };
        var ms = (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 0, int.MaxValue);
        var n = poll(fds, 2, ms);
        if (n < 0)
        {
            var e = errno;
            if (e == EINTR) return 0;
            throw new NetException("poll", e);
        }
        return (fds[0].revents != 0 ? 1 : 0) | (fds[1].revents != 0 ? 2 : 0);
    }

    public void Dispose() => _ = close(Fd);
}
