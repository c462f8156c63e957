using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Appliance.Linux.Net;

/// <summary>
/// What the sockmap path asks the kernel about a connected TCP socket it does not read itself: its
/// cookie, how many bytes were ever written into it, how many received bytes nobody consumed yet,
/// and a nudge that makes the socket look at its receive queue again. Errors are values (−errno).
/// </summary>
public static unsafe class TcpSocketInfo
{
    // <linux/sockios.h>: SIOCINQ = FIONREAD, SIOCOUTQ = TIOCOUTQ.
    const int SIOCINQ = 0x541B;
    const int SIOCOUTQ = 0x5411;
    // struct tcp_info: tcpi_bytes_acked is the u64 at byte 120 (after total_retrans and two u64 pacing rates).
    const int TcpInfoBytesAcked = 120;
    const int TcpInfoSize = 256;

    /// <summary>The socket's cookie (SO_COOKIE): unique while the kernel runs, unlike a descriptor number; −errno on failure.</summary>
    public static long Cookie(int fd)
    {
        ulong cookie = 0;
        socklen_t len = sizeof(ulong);
        return getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) < 0 ? -errno : (long)cookie;
    }

    /// <summary>
    /// Bytes written into the socket since it connected, whoever wrote them (user space or a sockmap
    /// redirect): the peer's acknowledged bytes (tcpi_bytes_acked) plus those still in the send queue
    /// (SIOCOUTQ); −errno on failure.
    /// </summary>
    public static long BytesWritten(int fd)
    {
        byte* info = stackalloc byte[TcpInfoSize];
        new Span<byte>(info, TcpInfoSize).Clear();
        socklen_t len = TcpInfoSize;
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, &len) < 0) return -errno;
        if (len < TcpInfoBytesAcked + 8) return -EINVAL; // a kernel before 4.1 has no tcpi_bytes_acked
        int queued = 0;
        if (ioctl(fd, SIOCOUTQ, &queued) < 0) return -errno;
        return (long)*(ulong*)(info + TcpInfoBytesAcked) + queued;
    }

    /// <summary>Looks at the receive side without taking anything: 1 when a byte is there to read, 0 at the end of stream, −errno otherwise (−EAGAIN: nothing yet; −ECONNRESET: the peer reset).</summary>
    public static int Peek(int fd)
    {
        byte b;
        long n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        return n < 0 ? -errno : (int)n;
    }

    /// <summary>Reads what is there without waiting: bytes read, 0 at the end of stream, or −errno (−EAGAIN: nothing now).</summary>
    public static int Read(int fd, Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            long n = recv(fd, b, buffer.Length, MSG_DONTWAIT);
            return n < 0 ? -errno : (int)n;
        }
    }

    /// <summary>Received bytes still in the receive queue (SIOCINQ; a FIN is not counted); −errno on failure.</summary>
    public static long Unread(int fd)
    {
        int n = 0;
        return ioctl(fd, SIOCINQ, &n) < 0 ? -errno : n;
    }

    /// <summary>
    /// Makes the socket run its data-ready callback now (setting SO_RCVLOWAT does: tcp_set_rcvlowat), so
    /// bytes that arrived before the socket went into a sockmap reach its verdict instead of waiting for
    /// the next segment. 0 or −errno.
    /// </summary>
    public static int Nudge(int fd)
    {
        int one = 1;
        return setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(int)) < 0 ? -errno : 0;
    }
}
