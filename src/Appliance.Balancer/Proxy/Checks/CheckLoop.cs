using Appliance.Proxy;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>
/// One backend's checks: a check, then the wait (<c>inter</c>, or <c>fast_inter</c> while fast), cut short by
/// <see cref="Wake"/>; each outcome moves HAProxy's rise/fall counter. Only this loop writes the status; it is
/// swapped whole, so readers see one check's result at a time.
/// </summary>
sealed class CheckLoop : IDisposable
{
    readonly HealthChecks _owner;
    readonly CancellationTokenSource _stop = new();
    TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    HealthCounter _counter;
    CheckStatus _status;

    public CheckLoop(HealthChecks owner, CheckTarget target)
    {
        _owner = owner;
        Target = target;
        // Start down: no client goes to a server before it passed `rise` checks.
        _counter = HealthCounter.Start(owner.Settings.Rise, owner.Settings.Fall);
        _status = new CheckStatus(target.Backend.Name, false, BackendRole.Unknown, false, CheckLayer.None, "not checked yet", TimeSpan.Zero, null);
        Task = Task.Run(RunAsync);
    }

    public CheckTarget Target { get; }
    public Task Task { get; }
    public CheckStatus Status => Volatile.Read(ref _status);

    /// <summary>Ends the wait at once (or, during a check, the next one): the next check runs now.</summary>
    public void Wake() => Volatile.Read(ref _wake).TrySetResult();

    public void Stop() => _stop.Cancel();

    async Task RunAsync()
    {
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            // A fresh signal before the check: a wake during the check still cuts the following wait.
            Volatile.Write(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            CheckOutcome outcome;
            try
            {
                outcome = await _owner.Check.RunAsync(Target, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A check that throws is a bug; it is logged and counted, and the loop lives on.
                _owner.Log.CheckThrew(e, _owner.Check.Type, Target.Backend.Name);
                outcome = CheckOutcome.Fail(CheckLayer.Protocol, $"the check failed: {e.GetType().Name}: {e.Message}");
            }
            Apply(outcome);

            // The interval runs from the end of a check (as HAProxy's): checks of one backend never overlap.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var delay = Task.Delay(_owner.Fast ? _owner.Settings.FastInter : _owner.Settings.Inter, _owner.Time, wait.Token);
            await Task.WhenAny(delay, Volatile.Read(ref _wake).Task).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
        }
    }

    void Apply(CheckOutcome outcome)
    {
        var before = _status;
        _counter = outcome.Ok ? _counter.Success() : _counter.Failure();
        Status.Counters.Count(outcome);
        bool up = _counter.IsUp;
        // The role is what the last passing check saw; a WrongRole failure is the node saying it is neither.
        var role = outcome.Ok ? outcome.Role : outcome.Layer == CheckLayer.WrongRole ? BackendRole.Unknown : before.Role;
        bool changed = up != before.Up || role != before.Role;
        var now = _owner.Time.GetUtcNow();
        Volatile.Write(ref _status, before with
        {
            Up = up,
            Role = role,
            LastOk = outcome.Ok,
            LastLayer = outcome.Layer,
            LastDetail = outcome.Detail,
            LastLatency = outcome.Latency,
            LastCheck = now,
            LastChange = changed ? now : before.LastChange,
        });

        var name = Target.Backend.Name;
        if (up != before.Up)
        {
            before.Counters.CountTransition();
            if (up) _owner.Log.BackendUp(name, role, _owner.Settings.Rise, _owner.Check.Type, outcome.Detail);
            else _owner.Log.BackendDown(name, _owner.Settings.Fall, _owner.Check.Type, outcome.Layer, outcome.Detail);
        }
        else if (up && role != before.Role)
        {
            _owner.Log.RoleChanged(name, role, before.Role, outcome.Ok ? outcome.Detail : $"{outcome.Layer}: {outcome.Detail}");
        }
        else if (before.LastCheck is null && !outcome.Ok)
        {
            _owner.Log.FirstCheckFailed(name, _owner.Check.Type, outcome.Layer, outcome.Detail);
        }
        if (changed) _owner.RaiseChanged();
    }

    public void Dispose() => _stop.Dispose();
}
