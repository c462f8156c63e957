using System.Diagnostics;
using Appliance.Configuration;
using Appliance.Health;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Tracking;

/// <summary>
/// keepalived's vrrp_script: runs <c>script</c> every <c>interval</c> seconds on its own task (never
/// on the speaker's thread), kills a run that outlives <c>timeout</c> (a failure), and turns the
/// results into a verdict with rise/fall. Starts down, as keepalived does with <c>init_fail</c>: an
/// unproven check must not raise the priority (or, for weight 0, let the instance out of Fault).
/// </summary>
public sealed class ScriptCondition : ITrackedCondition, IDisposable
{
    readonly TrackScriptSection _config;
    readonly ILogger _log;
    readonly CancellationTokenSource _stop = new();
    RiseFall _state = RiseFall.Initial(false);

    public ScriptCondition(TrackScriptSection config, ILogger log)
    {
        _config = config;
        _log = log;
    }

    public string Name => $"script {_config.Name}";
    public int Weight => _config.Weight;
    public bool Up => _state.Up;
    public event Action<ITrackedCondition>? Changed;

    /// <summary>Starts the periodic runs.</summary>
    public void Start() => _ = LoopAsync(_stop.Token);

    async Task LoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_config.Interval));
        do
        {
            var ok = await RunOnceAsync(ct);
            if (ct.IsCancellationRequested) return;
            var before = _state.Up;
            _state = _state.Next(ok, _config.Rise, _config.Fall);
            if (_state.Up != before)
            {
                _log.Info($"track_script {_config.Name}: {(before ? "up" : "down")} -> {(_state.Up ? "up" : "down")}");
                Changed?.Invoke(this);
            }
        }
        while (await WaitAsync(timer, ct));
    }

    static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try { return await timer.WaitForNextTickAsync(ct); }
        catch (OperationCanceledException) { return false; }
    }

    async Task<bool> RunOnceAsync(CancellationToken ct)
    {
        var psi = ScriptCommand.StartInfo(_config.Script, []);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            _log.Warn($"track_script {_config.Name} ({_config.Script}) could not start: {e.Message}");
            return false;
        }
        using (p)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(_config.Timeout));
            try
            {
                await p.WaitForExitAsync(timeout.Token);
                return p.ExitCode == 0;
            }
            catch (OperationCanceledException)
            {
                if (!ct.IsCancellationRequested)
                    _log.Warn($"track_script {_config.Name} ran longer than {_config.Timeout}s: killed, counted as a failure");
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                return false;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
