using System.Net;
using System.Net.Sockets;

namespace Appliance.Proxy.Tests.Sessions;

/// <summary>A plain TCP server standing in for PostgreSQL: each accepted connection runs <c>serve</c>.</summary>
public sealed class RawBackend : IAsyncDisposable
{
    readonly Socket _listen = new(SocketType.Stream, ProtocolType.Tcp);
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;

    public int Port { get; }

    public RawBackend(Func<Socket, CancellationToken, Task> serve)
    {
        _listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listen.Listen(16);
        Port = ((IPEndPoint)_listen.LocalEndPoint!).Port;
        _loop = Task.Run(async () =>
        {
            var sessions = new List<Task>();
            try
            {
                while (true)
                {
                    var s = await _listen.AcceptAsync(_stop.Token);
                    sessions.Add(Task.Run(async () =>
                    {
                        using (s)
                        {
                            try { await serve(s, _stop.Token); }
                            catch (Exception e) when (e is SocketException or OperationCanceledException) { }
                        }
                    }));
                }
            }
            catch (OperationCanceledException) { }
            await Task.WhenAll(sessions);
        });
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (the startup packet the proxy passes on).</summary>
    public static async Task ReadExactlyAsync(Socket s, int count, CancellationToken ct)
    {
        var b = new byte[count];
        for (int got = 0; got < count;)
        {
            int n = await s.ReceiveAsync(b.AsMemory(got), SocketFlags.None, ct);
            if (n == 0) throw new SocketException((int)SocketError.ConnectionReset);
            got += n;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listen.Dispose();
        await _loop;
        _stop.Dispose();
    }
}
