using System.Diagnostics;
using Appliance.Configuration;
using Microsoft.Extensions.Logging;

namespace Appliance.Agent.Ha;

/// <summary>
/// The <c>[callbacks]</c> scripts, run as Patroni runs them: <c>script action role scope</c> (action
/// <c>on_start</c>, <c>on_stop</c>, <c>on_restart</c>, <c>on_reload</c>, <c>on_role_change</c>; role
/// <c>master</c> or <c>replica</c>). In the background, never blocking the HA loop; killed after
/// <c>timeout</c>. A callback that is still running when the next one for the same action comes is
/// killed first, so a slow script cannot pile up.
/// </summary>
public sealed class Callbacks(CallbacksSection config, string scope, ILogger<Callbacks> log)
{
    readonly Dictionary<string, Process> _running = [];
    readonly Lock _gate = new();

    public void OnStart(string role) => Fire("on_start", config.OnStart, role);
    public void OnStop(string role) => Fire("on_stop", config.OnStop, role);
    public void OnRestart(string role) => Fire("on_restart", config.OnRestart, role);
    public void OnReload(string role) => Fire("on_reload", config.OnReload, role);
    public void OnRoleChange(string role) => Fire("on_role_change", config.OnRoleChange, role);

    void Fire(string action, string? script, string role)
    {
        if (string.IsNullOrWhiteSpace(script)) return;
        var psi = new ProcessStartInfo(script) { UseShellExecute = false, RedirectStandardOutput = false, RedirectStandardError = false };
        psi.ArgumentList.Add(action);
        psi.ArgumentList.Add(role);
        psi.ArgumentList.Add(scope);
        Process p;
        lock (_gate)
        {
            if (_running.Remove(action, out var previous) && !previous.HasExited)
            {
                log.Warn($"callback {action} is still running: killing it before the next one");
                try { previous.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
            try
            {
                p = Process.Start(psi) ?? throw new InvalidOperationException("no process");
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                log.Warn($"callback {action} ({script}) could not start: {e.Message}");
                return;
            }
            _running[action] = p;
        }
        _ = WatchAsync(action, script, p);
    }

    async Task WatchAsync(string action, string script, Process p)
    {
        using (p)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(config.Timeout));
            try
            {
                await p.WaitForExitAsync(timeout.Token);
                if (p.ExitCode != 0) log.Warn($"callback {action} ({script}) exited with {p.ExitCode}");
            }
            catch (OperationCanceledException)
            {
                log.Warn($"callback {action} ({script}) ran longer than {config.Timeout}s: killed");
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
            lock (_gate)
            {
                if (_running.TryGetValue(action, out var current) && current == p) _running.Remove(action);
            }
        }
    }
}
