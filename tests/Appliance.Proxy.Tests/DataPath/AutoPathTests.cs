using System.Net.Sockets;
using Appliance.Balancer.Proxy.DataPath;
using Appliance.Balancer.Proxy.Stats;

namespace Appliance.Proxy.Tests.DataPath;

/// <summary><c>auto</c>'s policy, with fake paths: sockmap for the first sessions at once (one per core), copy beyond, and sockmap again once they ended.</summary>
public sealed class AutoPathTests
{
    /// <summary>A path that holds every session until released, counting who came.</summary>
    sealed class HeldPath(string name) : IDataPath
    {
        public readonly TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Sessions;
        public string Name => name;

        public async Task<PumpEnd> PumpAsync(Socket client, Socket server, PumpTimeouts timeouts, PumpCounters counters, CancellationToken shutdown)
        {
            Interlocked.Increment(ref Sessions);
            await Release.Task;
            return PumpEnd.Closed;
        }
    }

    [Fact]
    public async Task Sockmap_takes_one_session_per_core_and_copy_the_rest()
    {
        var sockmap = new HeldPath("sockmap");
        var copy = new HeldPath("copy");
        var auto = new AutoPath(sockmap, copy);
        var counters = new PumpCounters(new ListenerStats("l"), new BackendStats("l", "b"));
        var timeouts = new PumpTimeouts(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
        int n = AutoPath.SockmapUpTo;
        Assert.Equal(Environment.ProcessorCount, n);
        var sessions = Enumerable.Range(0, n + 3).Select(_ => auto.PumpAsync(null!, null!, timeouts, counters, CancellationToken.None)).ToList();
        Assert.Equal((n, 3), (sockmap.Sessions, copy.Sessions));
        sockmap.Release.SetResult();
        copy.Release.SetResult();
        await Task.WhenAll(sessions);
        await auto.PumpAsync(null!, null!, timeouts, counters, CancellationToken.None);
        Assert.Equal(n + 1, sockmap.Sessions);
    }
}
