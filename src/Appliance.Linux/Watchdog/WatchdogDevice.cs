using System.Text;
using Appliance.Linux.Interop;
using static Tmds.Linux.LibC;

namespace Appliance.Linux.Watchdog;

/// <summary>What WDIOC_GETSUPPORT says about a device: its identity (e.g. "i6300ESB timer"), WDIOF_* option bits and firmware version.</summary>
public sealed record WatchdogSupport(string Identity, uint Options, uint FirmwareVersion)
{
    /// <summary>WDIOC_SETTIMEOUT is supported; otherwise the timeout is fixed (read it with GETTIMEOUT).</summary>
    public bool CanSetTimeout => (Options & WatchdogH.WDIOF_SETTIMEOUT) != 0;
    /// <summary>A 'V' written before close stops the timer; otherwise it runs on after close (nowayout-like).</summary>
    public bool HasMagicClose => (Options & WatchdogH.WDIOF_MAGICCLOSE) != 0;
}

/// <summary>
/// An open Linux watchdog device (<c>/dev/watchdogN</c>). Opening it starts the timer; from then on
/// <see cref="Keepalive"/> must come before the timeout or the machine resets. Not thread-safe: one
/// owner (the HA loop) calls it.
/// </summary>
/// <remarks>
/// Kernel caveats: the watchdog core allows one opener (a second open gets EBUSY); closing without
/// the magic 'V' leaves the timer running, which is what fences a crashed agent; a kernel built with
/// CONFIG_WATCHDOG_NOWAYOUT (or the driver's nowayout=1) ignores the 'V' and never stops.
/// </remarks>
public sealed unsafe class WatchdogDevice : IDisposable
{
    private int _fd;

    /// <summary>The path the device was opened at.</summary>
    public string Path { get; }

    private WatchdogDevice(string path, int fd)
    {
        Path = path;
        _fd = fd;
    }

    /// <summary>Opens <paramref name="path"/> write-only, which arms the timer.</summary>
    /// <exception cref="WatchdogException">The device cannot be opened; EBUSY says another process holds it.</exception>
    public static WatchdogDevice Open(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes)
        {
            // O_CLOEXEC: a child (postgres, pg_ctl, a callback script) must never inherit the fd,
            // or the timer would only be disarmed when that child exits too.
            fd = open(p, O_WRONLY | O_CLOEXEC, 0);
        }
        if (fd < 0)
        {
            int e = errno;
            throw new WatchdogException(path, "open", e, e == EBUSY
                ? "another process holds it open (the kernel allows one opener: another agent, watchdog daemon or systemd's RuntimeWatchdogSec?)"
                : e == ENOENT ? "no such device (is the driver loaded?)" : null);
        }
        return new WatchdogDevice(path, fd);
    }

    /// <summary>WDIOC_GETSUPPORT: identity and WDIOF_* options.</summary>
    public WatchdogSupport GetSupport()
    {
        watchdog_info info = default;
        Ioctl("WDIOC_GETSUPPORT", WatchdogH.WDIOC_GETSUPPORT, &info);
        var id = new ReadOnlySpan<byte>(info.identity, 32);
        int end = id.IndexOf((byte)0);
        return new WatchdogSupport(Encoding.ASCII.GetString(end < 0 ? id : id[..end]).Trim(), info.options, info.firmware_version);
    }

    /// <summary>WDIOC_SETTIMEOUT; returns the timeout the device actually took, which may differ.</summary>
    public int SetTimeout(int seconds)
    {
        int value = seconds;
        Ioctl("WDIOC_SETTIMEOUT", WatchdogH.WDIOC_SETTIMEOUT, &value);
        return value;
    }

    /// <summary>WDIOC_GETTIMEOUT, in seconds.</summary>
    public int GetTimeout()
    {
        int value = 0;
        Ioctl("WDIOC_GETTIMEOUT", WatchdogH.WDIOC_GETTIMEOUT, &value);
        return value;
    }

    /// <summary>WDIOC_KEEPALIVE: restarts the countdown.</summary>
    public void Keepalive()
    {
        int ignored = 0; // _IOR: the kernel may write here, so it must be a real int
        Ioctl("WDIOC_KEEPALIVE", WatchdogH.WDIOC_KEEPALIVE, &ignored);
    }

    /// <summary>
    /// Closes the device. With <paramref name="disarm"/> the magic 'V' is written first, which stops
    /// the timer on a device with WDIOF_MAGICCLOSE; without it the timer keeps running and the
    /// machine resets at the timeout (the fence). Idempotent.
    /// </summary>
    /// <exception cref="WatchdogException">Writing the 'V' failed; the fd is closed anyway, the timer still runs.</exception>
    public void Close(bool disarm)
    {
        int fd = _fd;
        if (fd < 0) return;
        _fd = -1;
        int writeErrno = 0;
        if (disarm)
        {
            byte v = (byte)'V';
            if (write(fd, &v, 1) != 1) writeErrno = errno;
        }
        // Linux releases the fd even when close fails (never retry it); the release, not close's
        // return, is what stops or keeps the timer.
        _ = close(fd);
        if (writeErrno != 0) throw new WatchdogException(Path, "magic close ('V')", writeErrno, "the timer was not stopped");
    }

    /// <summary>Closes without disarming: a device dropped without a decision keeps fencing.</summary>
    public void Dispose() => Close(disarm: false);

    private void Ioctl(string name, uint request, void* arg)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        // Tmds.LibC takes the request as int; the kernel's ioctl takes an unsigned int cmd, so the
        // bit pattern is all that matters.
        if (ioctl(_fd, unchecked((int)request), arg) < 0)
            throw new WatchdogException(Path, name, errno);
    }
}
