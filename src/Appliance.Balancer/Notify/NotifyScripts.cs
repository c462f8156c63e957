using System.Diagnostics;
using Appliance.Balancer.Tracking;
using Appliance.Configuration;
using Appliance.Vrrp;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Notify;

/// <summary>
/// keepalived's notify scripts for one instance: on every transition <c>notify_master</c>,
/// <c>notify_backup</c>, <c>notify_fault</c> or <c>notify_stop</c> (as written, no arguments added),
/// then <c>notify</c> with keepalived's arguments <c>INSTANCE &lt;name&gt; &lt;MASTER|BACKUP|FAULT|STOP&gt; &lt;priority&gt;</c>.
/// Started in the background (the speaker never waits), killed after <c>notify_timeout</c>.
/// </summary>
public sealed class NotifyScripts(VrrpInstanceSection config, ILogger log)
{
    readonly List<Task> _running = [];
    readonly Lock _gate = new();

    /// <summary>keepalived's name of a state in notify arguments.</summary>
    public static string StateWord(VrrpState state) => state switch
    {
        VrrpState.Master => "MASTER",
        VrrpState.Backup => "BACKUP",
        VrrpState.Fault => "FAULT",
        _ => "STOP",
    };

    /// <summary>The script lines and their arguments for entering <paramref name="state"/> (pure: what <see cref="Fire"/> runs).</summary>
    public static IReadOnlyList<(string Script, string[] Arguments)> Commands(VrrpInstanceSection config, VrrpState state, byte priority)
    {
        var list = new List<(string, string[])>();
        var specific = state switch
        {
            VrrpState.Master => config.NotifyMaster,
            VrrpState.Backup => config.NotifyBackup,
            VrrpState.Fault => config.NotifyFault,
            _ => config.NotifyStop,
        };
        if (!string.IsNullOrWhiteSpace(specific)) list.Add((specific, []));
        if (!string.IsNullOrWhiteSpace(config.Notify))
            list.Add((config.Notify, ["INSTANCE", config.Name, StateWord(state), priority.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
        return list;
    }

    /// <summary>Starts the scripts for entering <paramref name="state"/>; returns at once.</summary>
    public void Fire(VrrpState state, byte priority)
    {
        foreach (var (script, args) in Commands(config, state, priority))
        {
            Process p;
            try
            {
                p = Process.Start(ScriptCommand.StartInfo(script, args)) ?? throw new InvalidOperationException("no process");
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                log.Warn($"{config.Name}: notify script {script} could not start: {e.Message}");
                continue;
            }
            var task = WatchAsync(script, p);
            lock (_gate)
            {
                _running.RemoveAll(t => t.IsCompleted);
                _running.Add(task);
            }
        }
    }

    /// <summary>At shutdown: gives running scripts up to <paramref name="grace"/> to finish (the stop notification is usually among them).</summary>
    public Task DrainAsync(TimeSpan grace)
    {
        Task[] running;
        lock (_gate) running = [.. _running];
        return Task.WhenAny(Task.WhenAll(running), Task.Delay(grace));
    }

    async Task WatchAsync(string script, Process p)
    {
        using (p)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(config.NotifyTimeout));
            try
            {
                await p.WaitForExitAsync(timeout.Token);
                if (p.ExitCode != 0) log.Warn($"{config.Name}: notify script {script} exited with {p.ExitCode}");
            }
            catch (OperationCanceledException)
            {
                log.Warn($"{config.Name}: notify script {script} ran longer than {config.NotifyTimeout}s: killed");
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
        }
    }
}
