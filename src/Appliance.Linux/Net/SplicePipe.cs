using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Appliance.Linux.Net;

/// <summary>
/// A pipe that bytes cross from one socket to another by splice(2), without entering user space: the
/// socket's pages move into the pipe and from the pipe into the other socket. Both ends are non-blocking
/// (O_NONBLOCK here, SPLICE_F_NONBLOCK on every call), so a call never parks a thread; the sockets'
/// descriptors must be non-blocking too (<see cref="SetNonBlocking"/>). Errors are values: the calls
/// return the bytes moved, 0 at end of stream, or −errno.
/// </summary>
public sealed unsafe class SplicePipe : IDisposable
{
    int _readFd, _writeFd;

    /// <summary>A pipe's default capacity (16 pages, pipe(7)): the most one direction holds in flight.</summary>
    public const int Capacity = 64 * 1024;

    public SplicePipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) throw new NetException("pipe2", errno);
        _readFd = fds[0];
        _writeFd = fds[1];
    }

    /// <summary>Moves up to <paramref name="max"/> bytes from socket <paramref name="socketFd"/> into the pipe: bytes moved, 0 at the socket's end of stream, or −errno (−EAGAIN: nothing to read now, or the pipe is full).</summary>
    public long FromSocket(int socketFd, int max) => Result(splice(socketFd, null, _writeFd, null, (size_t)max, (uint)(SPLICE_F_MOVE | SPLICE_F_NONBLOCK)));

    /// <summary>Moves up to <paramref name="max"/> bytes from the pipe into socket <paramref name="socketFd"/>: bytes moved or −errno (−EAGAIN: the socket's send buffer is full).</summary>
    public long ToSocket(int socketFd, int max) => Result(splice(_readFd, null, socketFd, null, (size_t)max, (uint)(SPLICE_F_MOVE | SPLICE_F_NONBLOCK)));

    static long Result(ssize_t n) => n < 0 ? -errno : (long)n;

    /// <summary>Sets O_NONBLOCK on a socket the runtime owns (it is non-blocking already once an async call ran on it; this makes it certain).</summary>
    public static void SetNonBlocking(int fd)
    {
        int flags = fcntl(fd, F_GETFL, 0);
        if (flags < 0 || ((flags & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0))
            throw new NetException("fcntl(O_NONBLOCK)", errno);
    }

    /// <summary>
    /// Whether splice(2) works here: a pipe can be made and the call exists (a kernel without it, or a
    /// seccomp filter, answers ENOSYS or EPERM instead of EBADF for a bad descriptor).
    /// </summary>
    public static bool IsAvailable(out string why)
    {
        try
        {
            using var p = new SplicePipe();
            long r = p.FromSocket(-1, 1);
            if (r == -EBADF || r == -EINVAL) { why = ""; return true; }
            why = $"splice answered errno {-r} for a probe";
            return false;
        }
        catch (NetException e)
        {
            why = e.Message;
            return false;
        }
    }

    public void Dispose()
    {
        int r = Interlocked.Exchange(ref _readFd, -1), w = Interlocked.Exchange(ref _writeFd, -1);
        if (r >= 0) _ = close(r);
        if (w >= 0) _ = close(w);
    }
}
