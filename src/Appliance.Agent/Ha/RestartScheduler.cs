using Appliance.Cluster;
using Appliance.Ha;
using Microsoft.Extensions.Logging;

namespace Appliance.Agent.Ha;

/// <summary>
/// This node's one scheduled restart (Patroni keeps it in memory too): the REST API sets and deletes it
/// from any thread, the HA loop carries it out through the operator request queue when
/// <see cref="RestartSchedule.Evaluate"/> says it is due, and publishes it in the member key.
/// </summary>
public sealed class RestartScheduler(ILogger<RestartScheduler> log)
{
    ScheduledRestart? _current;
    string? _lastWait;
    TaskCompletionSource _changed = LoopSignal.Create();

    public ScheduledRestart? Current => Volatile.Read(ref _current);

    /// <summary>Completes when a restart is scheduled or deleted, so the loop publishes it at once.</summary>
    public Task Changed => Volatile.Read(ref _changed).Task;

    /// <summary>False when another restart is already scheduled.</summary>
    public bool TrySchedule(ScheduledRestart r)
    {
        if (Interlocked.CompareExchange(ref _current, r, null) is not null) return false;
        log.Info($"restart scheduled at {PyTime.Iso(r.Schedule)}");
        Signal();
        return true;
    }

    /// <summary>False when none was scheduled.</summary>
    public bool Delete()
    {
        if (Interlocked.Exchange(ref _current, null) is null) return false;
        Signal();
        return true;
    }

    /// <summary>How long the loop may sleep before the scheduled moment comes (it wakes up for it).</summary>
    public TimeSpan? DueIn(DateTimeOffset now) => Current is { } r ? r.Schedule - now : null;

    /// <summary>Once per cycle, before the loop takes operator requests: start the restart when due, drop it when moot.</summary>
    public void Tick(Observation o, ActionRunner runner, TimeSpan loopWait, DateTimeOffset now)
    {
        if (Current is not { } r) return;
        var d = RestartSchedule.Evaluate(r, o.Postgres, o.Cluster.IsPaused, o.Cluster.Leader is not null,
            o.Memory.ActionInProgress is not null, loopWait, now);
        switch (d.Verdict)
        {
            case RestartVerdict.Wait:
                if (d.Reason != _lastWait) log.Info($"scheduled restart: {d.Reason}");
                _lastWait = d.Reason;
                return;
            case RestartVerdict.Drop:
                log.Warn($"scheduled restart dropped: {d.Reason}");
                break;
            case RestartVerdict.Run:
                log.Info($"running the {d.Reason}");
                var request = runner.Request(HaActionKind.Restart);
                _ = request.Finished.Task.ContinueWith(t =>
                {
                    if (t.Result is { } error) log.Warn($"scheduled restart failed: {error}");
                }, TaskScheduler.Default);
                break;
        }
        // Run or dropped, it is gone (Patroni deletes it either way); only the one evaluated, not a newer one.
        _lastWait = null;
        if (Interlocked.CompareExchange(ref _current, null, r) == r) Signal();
    }

    /// <summary>The member key's <c>scheduled_restart</c>.</summary>
    public ScheduledRestartData? Published => Current is { } r ? new ScheduledRestartData
    {
        Schedule = PyTime.Iso(r.Schedule),
        Role = r.Role,
        PostgresVersion = r.PostgresVersion,
        RestartPending = r.RestartPending ? true : null,
        Timeout = r.Timeout,
        PostmasterStartTime = r.PostmasterStartTime is { } st ? PyTime.Iso(st.ToUniversalTime(), ' ') : null,
    } : null;

    void Signal()
    {
        var old = Interlocked.Exchange(ref _changed, LoopSignal.Create());
        old.TrySetResult();
    }
}
