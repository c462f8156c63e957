using System.Net.Sockets;
using Appliance.Configuration;
using Appliance.Balancer.Proxy.Stats;

namespace Appliance.Balancer.Proxy.DataPath;

/// <summary>
/// How bytes move between a client and its server once the session is set up. Every implementation
/// gives the same guarantees, checked by one behaviour suite: each byte arrives in order; a FIN from one
/// side is passed on (Shutdown(Send)) only after every byte before it was delivered, while the other
/// direction goes on until its own FIN or the fin timeout; a reset on one side resets the other (linger
/// 0); at most one buffer (or pipe) per direction is in flight, so a slow reader slows its writer; the
/// timeouts close the session. The sockets stay the caller's to dispose; the pump never closes them.
/// </summary>
public interface IDataPath
{
    /// <summary><c>copy</c>, <c>splice</c>, <c>sockmap</c> or <c>auto</c>: the log and metrics name.</summary>
    string Name { get; }

    /// <summary>Moves bytes both ways until both sides sent their FIN, one side reset, a timeout passed or <paramref name="shutdown"/> fired; says which.</summary>
    Task<PumpEnd> PumpAsync(Socket client, Socket server, PumpTimeouts timeouts, PumpCounters counters, CancellationToken shutdown);
}

/// <summary>How a pumped session ended. Only <see cref="Closed"/> is a normal end.</summary>
public enum PumpEnd
{
    /// <summary>Both sides sent their FIN and every byte was delivered.</summary>
    Closed,
    /// <summary>The client reset (or could not take bytes any more); the server was reset.</summary>
    ClientReset,
    /// <summary>The server reset (or could not take bytes any more); the client was reset.</summary>
    ServerReset,
    /// <summary>The client sent nothing for <c>client_timeout</c>.</summary>
    ClientTimeout,
    /// <summary>The server sent nothing for <c>server_timeout</c>.</summary>
    ServerTimeout,
    /// <summary>No byte either way for <c>idle_timeout</c>.</summary>
    IdleTimeout,
    /// <summary>After the client's FIN the server went on for <c>client_fin_timeout</c>.</summary>
    ClientFinTimeout,
    /// <summary>After the server's FIN the client went on for <c>server_fin_timeout</c>.</summary>
    ServerFinTimeout,
    /// <summary>The shutdown token fired (the server left the pool, or the listener stops).</summary>
    Shutdown,
}

/// <summary>Bounded metrics labels of <see cref="PumpEnd"/>.</summary>
public static class PumpEnds
{
    public static string Label(this PumpEnd end) => end switch
    {
        PumpEnd.Closed => "closed",
        PumpEnd.ClientReset => "client_reset",
        PumpEnd.ServerReset => "server_reset",
        PumpEnd.ClientTimeout => "client_timeout",
        PumpEnd.ServerTimeout => "server_timeout",
        PumpEnd.IdleTimeout => "idle_timeout",
        PumpEnd.ClientFinTimeout => "client_fin_timeout",
        PumpEnd.ServerFinTimeout => "server_fin_timeout",
        PumpEnd.Shutdown => "shutdown",
        _ => "unknown",
    };
}

/// <summary>The data-path timeouts of <c>[proxy]</c>; <see cref="TimeSpan.Zero"/> means none.</summary>
public sealed record PumpTimeouts(TimeSpan Client, TimeSpan Server, TimeSpan ClientFin, TimeSpan ServerFin, TimeSpan Idle)
{
    public static PumpTimeouts From(ProxySection proxy)
        => new(proxy.ClientTimeout, proxy.ServerTimeout, proxy.ClientFinTimeout, proxy.ServerFinTimeout, proxy.IdleTimeout);
}

/// <summary>Where a session's bytes are counted: its listener and its server.</summary>
public sealed class PumpCounters(ListenerStats listener, BackendStats backend)
{
    /// <summary>Bytes delivered from the client to the server.</summary>
    public void FromClient(long bytes) { listener.AddIn(bytes); backend.AddIn(bytes); }

    /// <summary>Bytes delivered from the server to the client.</summary>
    public void FromServer(long bytes) { listener.AddOut(bytes); backend.AddOut(bytes); }

    /// <summary>A session whose bytes the kernel moves: <paramref name="refresh"/> brings its counts up to date whenever the listener's are read, until disposed.</summary>
    public IDisposable Live(Action refresh) => listener.Live(refresh);

    /// <summary>The session moves on <paramref name="path"/> (<c>copy</c>, <c>splice</c>, <c>sockmap</c>): counted per listener.</summary>
    public void OnPath(string path) => listener.CountPath(path);
}
