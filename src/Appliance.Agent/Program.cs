using System.Runtime.InteropServices;
using Appliance.Agent;
using Appliance.Agent.Api;
using Appliance.Agent.Ha;
using Appliance.Agent.Metrics;
using Appliance.Agent.Node;
using Appliance.Configuration;
using Appliance.Etcd;
using Appliance.Ha;
using Appliance.Linux.Systemd;
using Appliance.Linux.Watchdog;
using Appliance.Postgres;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// appliance-agent: the composition root of the database-node agent. Everything else is a library.
// Two more commands serve the appliance image's boot: set the node up from its configuration, or show why not.
if (args is [SetupNodeCommand.Name, .. var setupArgs]) return SetupNodeCommand.Run(setupArgs, Console.Out, Console.Error);
if (args is [ConfigErrorServer.Name, .. var errorArgs]) return await ConfigErrorServer.RunAsync(errorArgs, Console.Error);
var (config, exitCode) = await DaemonStart.PrepareAsync("appliance-agent", MemberPublisher.Version, ConfigRole.Agent, args, Console.Out, Console.Error);
if (config is null) return exitCode;

var time = TimeProvider.System;
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
    o.UseUtcTimestamp = true;
});
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
ApiListener.Configure(builder, config.Restapi);
var app = builder.Build();
var logs = app.Services.GetRequiredService<ILoggerFactory>();

var settings = HaSettings.From(config);
var state = new AgentState();
var publisher = new MemberPublisher(config);
await using var store = EtcdClusterStore.Create(config.Etcd, config.Cluster, config.Node.Name, config.Agent.Ttl, time, logs.CreateLogger<EtcdClusterStore>());
using var postgres = new PostgresController(config.Postgresql, config.Node.Name, time, logs.CreateLogger<PostgresController>());
using var peerHttp = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(1) });
var peerClient = new PeerClient(peerHttp, time);
var watchdog = LinuxWatchdog.Create(config, time);
using var watchdogLifetime = watchdog as IDisposable;
var metrics = new AgentMetrics(config.Cluster.Scope, settings.Ttl, state, watchdog, time);
var notify = SystemdNotify.FromProcess();
var callbacks = new Callbacks(config.Callbacks, config.Cluster.Scope, logs.CreateLogger<Callbacks>());
var sync = new SyncReplication(settings.MemberName, store, postgres, time, logs.CreateLogger<SyncReplication>());
var runner = new ActionRunner(settings, config, store, postgres, watchdog, callbacks, sync, metrics, time, logs.CreateLogger<ActionRunner>());
var restarts = new RestartScheduler(logs.CreateLogger<RestartScheduler>());
using var loop = new HaLoop(settings, store, postgres, peerClient, runner, publisher, state, metrics, notify, restarts, time, logs.CreateLogger<HaLoop>());
using var probeCache = new ProbeCache(postgres, time);
new RestApi(config, state, probeCache, metrics, time, publisher, watchdog, restarts).Map(app);
new OperationsApi(config, store, peerClient, runner, postgres, probeCache, callbacks, restarts, time).Map(app);

using var stop = new CancellationTokenSource();
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

var log = logs.CreateLogger("appliance-agent");
log.Info($"appliance-agent {MemberPublisher.Version}: member {config.Node.Name} of {config.Cluster.Namespace.TrimEnd('/')}/{config.Cluster.Scope}, REST API on {config.Restapi.Listen}");
await app.StartAsync();
notify.Ready();
await loop.RunAsync(stop.Token);
notify.Stopping();
await loop.ShutdownAsync();
await app.StopAsync();
log.Info("stopped");
return 0;
