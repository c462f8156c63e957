using Appliance.Ha;

namespace Appliance.Agent.Ha;

/// <summary>
/// An operator's request (restart, re-initialize) handed from the REST API to the HA loop, which alone
/// starts actions. <see cref="Started"/> completes when the loop took it on (or refused it, with the
/// reason); <see cref="Finished"/> when the action ended (null: it worked, else what went wrong).
/// </summary>
public sealed class OperatorRequest(HaActionKind kind)
{
    public HaActionKind Kind { get; } = kind;
    public TaskCompletionSource<string?> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource<string?> Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Refuse(string reason)
    {
        Started.TrySetResult(reason);
        Finished.TrySetResult(reason);
    }
}
