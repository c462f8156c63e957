using Appliance.Balancer.Proxy.DataPath;
using Appliance.Balancer.Proxy.Listening;
using Appliance.Balancer.Proxy.Stats;
using Appliance.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Proxy.Tests.Sessions;

/// <summary>One in-process listener on 127.0.0.1 in front of one fixed server, with the data path named (or the paths given, which may fall back).</summary>
public sealed class TestProxy : IAsyncDisposable
{
    public ProxyListener Listener { get; }
    public ListenerStats Stats { get; } = new("test");
    public FixedPool Pool { get; }
    public IDataPath DataPath { get; }
    internal DataPaths Paths { get; }
    public int Port => Listener.LocalEndPoint!.Port;

    public TestProxy(string dataPath, int backendPort, Func<ProxySection, ProxySection>? configure = null)
        : this(dataPath, backendPort, new DataPaths(TimeProvider.System, NullLogger.Instance), configure)
    {
        // A fallback would hide the path under test.
        Assert.True(dataPath == DataPath.Name, $"data_path {dataPath} is not available here: {Paths.Unavailable(dataPath)}");
    }

    internal TestProxy(string dataPath, int backendPort, DataPaths paths, Func<ProxySection, ProxySection>? configure = null)
    {
        var proxy = new ProxySection { DataPath = dataPath, Workers = 2 };
        if (configure is not null) proxy = configure(proxy);
        Pool = new FixedPool("test", new Backend("pg", "127.0.0.1", backendPort));
        Paths = paths;
        DataPath = Paths.For(dataPath);
        Listener = new ProxyListener(new ProxyListenerSection { Name = "test", Bind = "127.0.0.1:0" }, proxy, Pool, Stats, DataPath, NullLogger.Instance);
        Listener.Start();
    }

    public long Closed(string reason) => Stats.Closed.TryGetValue(reason, out var n) ? n : 0;

    /// <summary>Every session so far moved on <paramref name="path"/> (none fell back to another).</summary>
    public void AssertSessionsTook(string path, int sessions = 1)
        => Assert.Equal([$"{path}={sessions}"], Stats.Paths.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>One session so far, on one of <paramref name="paths"/> (where timing decides whether sockmap could take it).</summary>
    public void AssertOneSessionOn(params string[] paths)
        => Assert.Contains(Assert.Single(Stats.Paths, kv => kv.Value == 1).Key, paths);

    public async ValueTask DisposeAsync()
    {
        await Listener.DisposeAsync();
        Paths.Dispose();
        Pool.Dispose();
    }
}
