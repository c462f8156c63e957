using Appliance.Agent.Ha;
using Appliance.Agent.Metrics;
using Appliance.Configuration;
using Appliance.Ha;
using Appliance.Linux.Systemd;
using Appliance.Simulator.Clock;
using Appliance.Simulator.Models;
using Microsoft.Extensions.Logging;

namespace Appliance.Simulator.World;

/// <summary>
/// One database host: its disk and PostgreSQL (which outlive the agent), its watchdog device, and the agent,
/// composed from the same classes as <c>appliance-agent</c>'s Program.cs, on this host's context of the loop.
/// </summary>
public sealed class SimNode : IDisposable
{
    readonly SimWorld _world;
    readonly ApplianceConfig _config;
    readonly LeaderRenewal _renewal;
    int _boots;
    CancellationTokenSource? _stop;

    public SimNode(SimWorld world, ApplianceConfig config, bool watchdogDevice, LeaderRenewal renewal)
    {
        _world = world;
        _config = config;
        _renewal = renewal;
        Name = config.Node.Name;
        Host = config.Node.Address;
        Settings = HaSettings.From(config);
        Clock = new NodeClock(world.Loop.Time);
        Postgres = new SimPostgres(world, Name, Host);
        Watchdog = new SimWatchdog(world, Host, watchdogDevice ? TimeSpan.FromSeconds(config.Agent.Ttl - config.Watchdog.SafetyMargin) : null);
    }

    public string Name { get; }
    public string Host { get; }
    public HaSettings Settings { get; }
    public NodeClock Clock { get; }
    public SimPostgres Postgres { get; }
    public SimWatchdog Watchdog { get; }
    public SimContext? Agent { get; private set; }
    public AgentState? State { get; private set; }
    public bool HostDown => _world.Network.IsDown(Host);
    /// <summary>The agent answers its REST API: it runs, is not frozen, and its host is up.</summary>
    public bool AgentResponsive => Agent is { Dead: false, Frozen: false } && !HostDown;

    /// <summary>Starts a new agent process (at boot, after a host reset, after the agent was killed).</summary>
    public void StartAgent()
    {
        var ctx = Agent = new SimContext(_world.Loop, $"{Name}#{++_boots}");
        _stop?.Dispose();
        var stop = _stop = new CancellationTokenSource();
        _world.Loop.Run(ctx, () =>
        {
            var logs = new TraceLoggerFactory(_world, Name);
            var state = State = new AgentState();
            var store = new SimStore(_world, Host, Name, _config.Agent.Ttl, _renewal, Clock);
            Store = store;
            var metrics = new AgentMetrics(_config.Cluster.Scope, Settings.Ttl, state, Watchdog, Clock);
            var callbacks = new Callbacks(_config.Callbacks, _config.Cluster.Scope, logs.CreateLogger<Callbacks>());
            var sync = new SyncReplication(Name, store, Postgres, Clock, logs.CreateLogger<SyncReplication>());
            var runner = new ActionRunner(Settings, _config, store, Postgres, Watchdog, callbacks, sync, metrics, Clock, logs.CreateLogger<ActionRunner>());
            var restarts = new RestartScheduler(logs.CreateLogger<RestartScheduler>());
            var loop = new HaLoop(Settings, store, Postgres, new SimPeers(_world, Host), runner, new MemberPublisher(_config), state, metrics,
                new SystemdNotify(_ => null, 0), restarts, Clock, logs.CreateLogger<HaLoop>());
            Loop = loop;
            _ = RunAsync(loop, stop.Token);
        });
    }

    /// <summary>The agent's HA loop, as Program.cs runs it: until SIGTERM, then the clean shutdown.</summary>
    static async Task RunAsync(HaLoop loop, CancellationToken stop)
    {
        await loop.RunAsync(stop);
        await loop.ShutdownAsync();
    }

    public SimStore? Store { get; private set; }
    public HaLoop? Loop { get; private set; }

    /// <summary>SIGKILL of the agent: its work stops where it is; PostgreSQL keeps running.</summary>
    public void KillAgent()
    {
        Agent?.Kill();
        Store?.Kill();
        Store = null;
    }

    /// <summary>SIGTERM: the agent's clean shutdown runs (stops PostgreSQL, releases the key).</summary>
    public void StopAgent() => _stop?.Cancel();

    /// <summary>Power off: every process dies, the disk stays, the host leaves the network.</summary>
    public void Crash()
    {
        KillAgent();
        Postgres.Crash();
        Watchdog.Disarm();
        _world.Network.SetDown(Host, true);
    }

    public void Boot()
    {
        _world.Network.SetDown(Host, false);
        StartAgent();
    }

    /// <summary>What this node's <c>GET /patroni</c> says.</summary>
    public PeerStatus PeerStatus()
    {
        var pg = Postgres;
        return new PeerStatus(Name, pg.Accepting, pg.Accepting ? pg.IsStandby : null,
            pg.Data is { } d ? SimPostgres.Lsn(d.Wal.Count) : null, !Settings.CanBePromoted, Settings.FailoverPriority, pg.Data?.Timeline);
    }

    public void Dispose() => _stop?.Dispose();

    public override string ToString() => Name;
}

/// <summary>Agent log lines into the run's trace (Information and up: the quiet per-cycle lines are Debug).</summary>
sealed class TraceLoggerFactory(SimWorld world, string source) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new TraceLogger(world, source);
    public void AddProvider(ILoggerProvider provider) { }
    public void Dispose() { }

    sealed class TraceLogger(SimWorld world, string source) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) world.Trace(source, formatter(state, exception));
        }
    }
}
