using System.Runtime.InteropServices;
using Appliance.Balancer;
using Appliance.Balancer.Http;
using Appliance.Balancer.Notify;
using Appliance.Balancer.Proxy;
using Appliance.Balancer.Speaker;
using Appliance.Balancer.Tracking;
using Appliance.Configuration;
using Appliance.Vrrp;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// appliance-balancer: the composition root of the load-balancer node. Everything else is a library.
// One VRRP speaker thread per [[vrrp]] instance (the pure VrrpMachine decides, InstanceNetwork acts),
// tracking conditions feeding them, the PostgreSQL proxy (ProxyHost: listeners, pools, checks, routing
// from etcd) whose health every instance tracks, and /metrics, /status, /proxy, /stats on balancer.listen.
const string Version = "0.3.0";

// The proxy's sessions go on straight on the socket engine's thread instead of hopping to the thread pool
// at every socket event: the proxy benchmark measured that hop as most of our CPU per transaction
// (bench/README.md). Nothing on those paths blocks. It must be set before the first socket exists; an
// operator's own value wins.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

var (config, exitCode) = await DaemonStart.PrepareAsync("appliance-balancer", Version, ConfigRole.Balancer, args, Console.Out, Console.Error);
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
HttpEndpoints.Listen(builder, config.Balancer);
var app = builder.Build();
var logs = app.Services.GetRequiredService<ILoggerFactory>();
var log = logs.CreateLogger("appliance-balancer");

using var stop = new CancellationTokenSource();
var crashed = 0;
var metrics = new BalancerMetrics();
var runners = new List<InstanceRunner>();
var owned = new List<IDisposable>();
var scripts = new List<ScriptCondition>();
var notifiers = new List<NotifyScripts>();
// Started before the speakers, so a node never claims the VIP before its listeners are bound.
var proxy = config.Proxy.Listener.Count > 0 ? ProxyHost.Create(config, logs, time) : null;
try
{
    proxy?.Start();
    if (proxy is not null)
        log.Info($"proxy: {string.Join(", ", config.Proxy.Listener.Select(l => $"{l.Name} ({l.Role}) on {proxy.Bound[l.Name]}"))}; discovery {config.Proxy.Discovery}, check {config.Proxy.Check.Type}");

    foreach (var instance in config.Vrrp)
    {
        var instanceLog = logs.CreateLogger($"vrrp.{instance.Name}");
        var (network, settings) = InstanceNetwork.Open(instance, instanceLog);
        // A VIP left behind by a crashed earlier run would answer ARP beside the real master's: gone before we start.
        foreach (var stale in network.RemoveAddresses())
            log.Warn($"{instance.Name}: removed {stale} from {instance.Interface}, left behind by an earlier run");

        // keepalived tracks the instance's own interface by default: no link, Fault.
        var conditions = new List<ITrackedCondition>();
        if (proxy is not null) conditions.Add(proxy.Health);
        var ownLink = new LinkCondition(instance.Interface, 0, TimeSpan.FromSeconds(1));
        owned.Add(ownLink);
        conditions.Add(ownLink);
        foreach (var t in instance.TrackInterface)
        {
            var link = new LinkCondition(t.Name, t.Weight, TimeSpan.FromSeconds(1));
            owned.Add(link);
            conditions.Add(link);
        }
        foreach (var t in instance.TrackScript)
        {
            var script = new ScriptCondition(t, instanceLog);
            owned.Add(script);
            scripts.Add(script);
            conditions.Add(script);
        }
        var notify = new NotifyScripts(instance, instanceLog);
        notifiers.Add(notify);
        var runner = new InstanceRunner(instance, settings, network, conditions, notify, metrics, time, instanceLog, _ =>
        {
            Interlocked.Exchange(ref crashed, 1);
            stop.Cancel();
        });
        runners.Add(runner);
        if (proxy is not null)
        {
            // Clients reach sessions through the VIP: once it is gone from here, theirs reach the new master.
            var vips = network.Addresses.Select(a => a.Address.ToString()).ToList();
            runner.StateChanged += state =>
            {
                if (state != VrrpState.Master) proxy.DropSessionsOn(vips, $"{instance.Name} left MASTER ({NotifyScripts.StateWord(state)}): the VIP is no longer here");
            };
        }
        log.Info($"{instance.Name}: VRID {settings.VirtualRouterId} v{(int)settings.Version} on {instance.Interface} from {settings.PrimaryAddress}, priority {settings.Priority}, "
            + $"{string.Join(", ", network.Addresses)}, adverts to {string.Join(", ", network.Destinations)}");
    }
}
catch (Exception e) when (e is IOException or InvalidOperationException or FormatException or ArgumentException or System.Net.Sockets.SocketException)
{
    log.Error($"cannot start: {e.Message}");
    foreach (var r in runners) r.Dispose();
    foreach (var d in owned) d.Dispose();
    if (proxy is not null) await proxy.DisposeAsync();
    return 1;
}

metrics.Observe(() => runners.Select(r => r.Status));
if (proxy is not null) ProxyMetrics.Register(metrics, proxy.Status);
HttpEndpoints.Map(app, config, metrics, () => runners.Select(r => r.Status), () => proxy?.Status());

using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });

try
{
    await app.StartAsync();
}
catch (IOException e)
{
    // Most often the port of balancer.listen is taken: say so, and leave nothing half-started.
    log.Error($"cannot listen on {config.Balancer.Listen}: {e.Message}");
    foreach (var d in owned) d.Dispose();
    foreach (var r in runners) r.Dispose();
    if (proxy is not null) await proxy.DisposeAsync();
    return 1;
}
log.Info($"appliance-balancer {Version}: {runners.Count} VRRP instance(s), {config.Proxy.Listener.Count} proxy listener(s); /status{(proxy is null ? "" : ", /proxy, /stats")}{(config.Metrics.Enabled ? " and /metrics" : "")} on {config.Balancer.Listen}");
foreach (var s in scripts) s.Start();
foreach (var r in runners) r.Start();

// systemd (Type=notify, WatchdogSec=): ready once the listeners and speakers run. A speaker that dies ends the
// process (see crashed); the keepalive proves the rest of the runtime (timers, thread pool) still turns.
using var systemd = Appliance.Linux.Systemd.SystemdNotify.FromProcess();
systemd.Ready();
var keepalive = systemd.WatchdogInterval is { } watchdogInterval
    ? Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(watchdogInterval / 2);
        while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false)) systemd.Watchdog();
    })
    : Task.CompletedTask;

try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
}

// SIGTERM: every instance says goodbye (a master sends priority 0 and removes its addresses).
log.Info("stopping");
systemd.Stopping();
try { await keepalive; } catch (OperationCanceledException) { }
foreach (var r in runners)
{
    if (!r.Stop(TimeSpan.FromSeconds(5)))
        log.Warn($"{r.Status.Name}: the speaker did not stop within 5 s");
}
await Task.WhenAll(notifiers.Select(n => n.DrainAsync(TimeSpan.FromSeconds(2))));
// The VIP has moved on (or is about to): then the listeners close and every session ends.
if (proxy is not null) await proxy.DisposeAsync();
foreach (var d in owned) d.Dispose();
foreach (var r in runners) r.Dispose();
await app.StopAsync();
log.Info("stopped");
return crashed == 0 ? 0 : 1;
