using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Linux.Systemd;

/// <summary>
/// systemd's notify protocol (sd_notify(3)) for <c>Type=notify</c> units with <c>WatchdogSec=</c>:
/// newline-separated assignments sent as one datagram to the AF_UNIX socket named by
/// <c>$NOTIFY_SOCKET</c>. Every call is a no-op returning false when NOTIFY_SOCKET is unset (not run
/// by systemd), so callers need no branch.
/// </summary>
/// <remarks>
/// The environment is a parameter, not read here, so tests need not touch the process environment.
/// systemd accepts a notification only from the unit's main PID unless <c>NotifyAccess=all</c>, so
/// send from the agent itself. This is systemd's service watchdog (a hung agent gets SIGABRT and a
/// restart); the hardware watchdog (a hung primary gets reset) is <c>WatchdogDevice</c>.
/// </remarks>
public sealed class SystemdNotify : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;

    /// <summary>Whether NOTIFY_SOCKET was set: notifications are sent.</summary>
    public bool Enabled => _socket is not null;

    /// <summary>
    /// <c>$WATCHDOG_USEC</c> when it is set and (when <c>$WATCHDOG_PID</c> is set) addressed to this
    /// process; null otherwise. systemd expects <see cref="Watchdog"/> more often than this; sd_watchdog_enabled(3)
    /// advises half of it.
    /// </summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <param name="environment">Reads an environment variable (e.g. <c>Environment.GetEnvironmentVariable</c>).</param>
    /// <param name="pid">This process's id, compared with <c>$WATCHDOG_PID</c>.</param>
    public SystemdNotify(Func<string, string?> environment, int pid)
    {
        WatchdogInterval = ParseWatchdog(environment("WATCHDOG_USEC"), environment("WATCHDOG_PID"), pid);
        string? path = environment("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path)) return;
        // '@' names a socket in the abstract namespace: the address starts with a NUL byte.
        _endpoint = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>From the process environment (the composition root's choice).</summary>
    public static SystemdNotify FromProcess() => new(Environment.GetEnvironmentVariable, Environment.ProcessId);

    /// <summary><c>READY=1</c>: start-up finished (Type=notify units stay "activating" until this).</summary>
    public bool Ready() => Send("READY=1");

    /// <summary><c>STATUS=...</c>: one line shown by <c>systemctl status</c>.</summary>
    public bool Status(string status) => Send("STATUS=" + status.ReplaceLineEndings(" "));

    /// <summary><c>WATCHDOG=1</c>: the service watchdog keepalive.</summary>
    public bool Watchdog() => Send("WATCHDOG=1");

    /// <summary><c>STOPPING=1</c>: shutdown began.</summary>
    public bool Stopping() => Send("STOPPING=1");

    /// <summary>Sends one datagram; false when disabled or the send failed (systemd gone: nothing to do about it).</summary>
    public bool Send(string message)
    {
        if (_socket is null) return false;
        try
        {
            return _socket.SendTo(Encoding.UTF8.GetBytes(message), _endpoint!) > 0;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose() => _socket?.Dispose();

    internal static TimeSpan? ParseWatchdog(string? usec, string? watchdogPid, int pid)
    {
        if (!ulong.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out ulong us) || us == 0) return null;
        // WATCHDOG_PID set for another process (the variable leaked to a child): not ours to feed.
        if (!string.IsNullOrEmpty(watchdogPid)
            && (!int.TryParse(watchdogPid, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p != pid)) return null;
        return TimeSpan.FromMicroseconds(us);
    }
}
