using System.Net;
using System.Net.Sockets;

namespace Appliance.Proxy.Tests.Checks;

/// <summary>
/// A TCP server on 127.0.0.1 that plays one script per accepted connection: say nothing (a hung server),
/// answer garbage, answer PostgreSQL's bytes. Counts connections; dispose closes the listener and every
/// connection it holds.
/// </summary>
sealed class ScriptedServer : IAsyncDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource _stop = new();
    readonly List<Socket> _held = [];
    readonly Func<Socket, CancellationToken, Task> _script;
    readonly Task _accepting;
    int _accepted;

    public ScriptedServer(Func<Socket, CancellationToken, Task> script)
    {
        _script = script;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Accepts and never says a word: the check must give up at its timeout.</summary>
    public static ScriptedServer Silent() => new((_, ct) => Task.Delay(Timeout.Infinite, ct));

    /// <summary>Reads the request, answers these bytes, closes.</summary>
    public static ScriptedServer Answering(byte[] reply) => new(async (s, ct) =>
    {
        var buffer = new byte[4096];
        _ = await s.ReceiveAsync(buffer, SocketFlags.None, ct);
        await s.SendAsync(reply, SocketFlags.None, ct);
        s.Shutdown(SocketShutdown.Send);
    });

    /// <summary>Accepts and closes at once, having read nothing.</summary>
    public static ScriptedServer Closing() => new((s, _) =>
    {
        s.Shutdown(SocketShutdown.Both);
        return Task.CompletedTask;
    });

    async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var s = await _listener.AcceptSocketAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                lock (_held) _held.Add(s);
                _ = RunAsync(s);
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
    }

    async Task RunAsync(Socket s)
    {
        try { await _script(s, _stop.Token); }
        catch (OperationCanceledException) { }
        catch (SocketException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_held) foreach (var s in _held) s.Dispose();
        _stop.Dispose();
    }
}
