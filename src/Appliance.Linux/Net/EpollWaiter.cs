using System.Collections.Concurrent;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Appliance.Linux.Net;

/// <summary>
/// Waits for events on sockets the runtime's socket engine cannot wait for: one thread in epoll_wait(2)
/// for all waits, each a one-shot registration removed as soon as it fires or is cancelled. The splice
/// path waits until a socket can take more bytes (the runtime has no "wait until writable"); the sockmap
/// path waits for a socket's end (EPOLLRDHUP without EPOLLIN, so the kernel's per-message wake-ups of a
/// socket whose bytes it moves do not wake it). Its own epoll instance leaves the runtime's
/// registrations of the same sockets untouched. One wait per descriptor at a time; a descriptor must
/// stay open until its wait has ended.
/// </summary>
public sealed unsafe class EpollWaiter : IDisposable
{
    readonly int _epoll;
    readonly Wakeup _stop = new();
    readonly Thread _thread;
    readonly ConcurrentDictionary<ulong, (int Fd, TaskCompletionSource Done)> _waits = new();
    ulong _nextId = 1;
    volatile bool _disposed;

    /// <param name="name">The waiting thread's name.</param>
    public EpollWaiter(string name)
    {
        _epoll = epoll_create1(EPOLL_CLOEXEC);
        if (_epoll < 0) throw new NetException("epoll_create1", errno);
        var ev = new epoll_event { events = EPOLLIN };
        ev.data.u64 = 0; // id 0: the stop signal
        if (epoll_ctl(_epoll, EPOLL_CTL_ADD, _stop.Fd, &ev) < 0) throw new NetException("epoll_ctl", errno);
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Completes when <paramref name="fd"/> is writable (or in error: the next write says which); cancellable.</summary>
    public Task WritableAsync(int fd, CancellationToken ct) => WaitAsync(fd, EPOLLOUT, "EPOLLOUT", ct);

    /// <summary>Completes when <paramref name="fd"/>'s peer has shut down its sending side, or the socket is in error or hung up; cancellable.</summary>
    public Task HangupAsync(int fd, CancellationToken ct) => WaitAsync(fd, EPOLLRDHUP, "EPOLLRDHUP", ct);

    /// <summary>Completes when <paramref name="fd"/> has something to read (or its end, or an error); cancellable.</summary>
    public Task ReadableAsync(int fd, CancellationToken ct) => WaitAsync(fd, EPOLLIN | EPOLLRDHUP, "EPOLLIN", ct);

    Task WaitAsync(int fd, int events, string what, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ct.IsCancellationRequested) return Task.FromCanceled(ct);
        ulong id = Interlocked.Increment(ref _nextId);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waits[id] = (fd, done);
        var ev = new epoll_event { events = events | EPOLLONESHOT };
        ev.data.u64 = id;
        if (epoll_ctl(_epoll, EPOLL_CTL_ADD, fd, &ev) < 0)
        {
            int e = errno;
            _waits.TryRemove(id, out _);
            return Task.FromException(new NetException($"epoll_ctl({what})", e));
        }
        if (ct.CanBeCanceled)
        {
            var reg = ct.Register(() => End(id, cancelled: true));
            _ = done.Task.ContinueWith(_ => reg.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return done.Task;
    }

    /// <summary>Ends one wait exactly once: whoever removes it from the table deregisters the descriptor, so it is never in the set after its wait ended.</summary>
    void End(ulong id, bool cancelled)
    {
        if (!_waits.TryRemove(id, out var w)) return;
        _ = epoll_ctl(_epoll, EPOLL_CTL_DEL, w.Fd, null);
        if (cancelled) w.Done.TrySetCanceled();
        else w.Done.TrySetResult();
    }

    void Loop()
    {
        const int Max = 64;
        var events = stackalloc epoll_event[Max];
        while (!_disposed)
        {
            int n = epoll_wait(_epoll, events, Max, -1);
            if (n < 0)
            {
                if (errno == EINTR) continue;
                break;
            }
            for (int i = 0; i < n; i++)
            {
                ulong id = events[i].data.u64;
                if (id != 0) End(id, cancelled: false);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Signal();
        _thread.Join();
        foreach (var id in _waits.Keys) End(id, cancelled: true);
        _ = close(_epoll);
        _stop.Dispose();
    }
}
