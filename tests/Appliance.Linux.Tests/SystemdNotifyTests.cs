using System.Net.Sockets;
using System.Text;
using Appliance.Linux.Systemd;
using Appliance.TestKit;

namespace Appliance.Linux.Tests;

/// <summary>The exact datagrams systemd would receive, on a socket bound here.</summary>
public sealed class SystemdNotifyTests : IDisposable
{
    private readonly TempDir _dir = new("appl-notify");

    public void Dispose() => _dir.Dispose();

    static Func<string, string?> Env(params (string Key, string Value)[] vars)
        => k => vars.FirstOrDefault(v => v.Key == k).Value;

    static string Receive(Socket s)
    {
        var buf = new byte[4096];
        s.ReceiveTimeout = 10_000;
        int n = s.Receive(buf);
        return Encoding.UTF8.GetString(buf, 0, n);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sends_the_exact_datagrams(bool abstractNamespace)
    {
        string path = abstractNamespace ? $"@appl-notify-{Guid.NewGuid():N}" : _dir.Sub("notify.sock");
        using var server = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(abstractNamespace ? "\0" + path[1..] : path));

        using var notify = new SystemdNotify(Env(("NOTIFY_SOCKET", path)), 1234);
        Assert.True(notify.Enabled);
        Assert.True(notify.Ready());
        Assert.Equal("READY=1", Receive(server));
        Assert.True(notify.Status("leader, 2 replicas\nstreaming"));
        Assert.Equal("STATUS=leader, 2 replicas streaming", Receive(server));
        Assert.True(notify.Watchdog());
        Assert.Equal("WATCHDOG=1", Receive(server));
        Assert.True(notify.Stopping());
        Assert.Equal("STOPPING=1", Receive(server));
    }

    [Fact]
    public void Without_NOTIFY_SOCKET_nothing_is_sent()
    {
        using var notify = new SystemdNotify(Env(), 1234);
        Assert.False(notify.Enabled);
        Assert.False(notify.Ready());
        Assert.Null(notify.WatchdogInterval);
    }

    [Fact]
    public void A_vanished_socket_is_a_false_not_a_throw()
    {
        using var notify = new SystemdNotify(Env(("NOTIFY_SOCKET", _dir.Sub("gone.sock"))), 1234);
        Assert.False(notify.Watchdog());
    }

    [Theory]
    [InlineData("30000000", null, 30.0)]
    [InlineData("30000000", "1234", 30.0)]
    [InlineData("30000000", "999", null)]   // addressed to another process
    [InlineData("0", null, null)]
    [InlineData("soon", null, null)]
    [InlineData(null, null, null)]
    public void Watchdog_interval(string? usec, string? pid, double? seconds)
    {
        var vars = new List<(string, string)>();
        if (usec is not null) vars.Add(("WATCHDOG_USEC", usec));
        if (pid is not null) vars.Add(("WATCHDOG_PID", pid));
        using var notify = new SystemdNotify(Env([.. vars]), 1234);
        Assert.Equal(seconds is null ? null : TimeSpan.FromSeconds(seconds.Value), notify.WatchdogInterval);
    }
}
