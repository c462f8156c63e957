namespace Appliance.Agent.Ha;

/// <summary>
/// The one-shot wake-ups of the HA loop (an action finished, a request arrived, a restart was scheduled).
/// Their waiters never run on the setter's thread (a background action, an API request) — except under a
/// <see cref="SynchronizationContext"/>: the simulator's posts every continuation to its one thread anyway,
/// and a hop through the thread pool there would make a seed's run unrepeatable.
/// </summary>
static class LoopSignal
{
    public static TaskCompletionSource Create() => new(SynchronizationContext.Current is null
        ? TaskCreationOptions.RunContinuationsAsynchronously
        : TaskCreationOptions.None);
}
