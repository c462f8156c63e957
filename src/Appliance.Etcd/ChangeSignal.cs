namespace Appliance.Etcd;

/// <summary>
/// A counter of changes and an awaitable for the next one. <see cref="Set"/> may be called from any
/// thread; <see cref="WaitAsync"/> returns at once when something changed since the previous wait
/// returned, so a change that arrives while the caller is busy is not lost.
/// </summary>
internal sealed class ChangeSignal
{
    private readonly object _gate = new();
    private long _changes;
    private long _consumed;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Set()
    {
        TaskCompletionSource fired;
        lock (_gate)
        {
            _changes++;
            fired = _next;
            _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        fired.TrySetResult();
    }

    /// <summary>True when a change happened since the last wait returned, or happens within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        Task next;
        lock (_gate)
        {
            if (_changes != _consumed)
            {
                _consumed = _changes;
                return true;
            }
            next = _next.Task;
        }
        try
        {
            await next.WaitAsync(timeout, time, ct);
        }
        catch (TimeoutException)
        {
            return false;
        }
        lock (_gate) _consumed = _changes;
        return true;
    }
}
