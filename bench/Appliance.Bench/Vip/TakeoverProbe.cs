using System.Diagnostics;
using System.Net;
using Appliance.Lab.Netns;

namespace Appliance.Bench.Vip;

/// <summary>
/// The client's view of a takeover: from a given instant, a new TCP connection to the VIP is started
/// every <see cref="Interval"/> (each may wait up to a second: a SYN sent to a node that dropped the
/// VIP is lost until its retransmission), and the first one answered by the expected node ends the
/// measurement. Overlapping attempts keep the resolution at the interval, not at TCP's retry timer.
/// </summary>
public static class TakeoverProbe
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(5);

    /// <summary>Time from <paramref name="since"/> (a <see cref="Stopwatch"/> timestamp) to the first answer from <paramref name="expected"/>; null past <paramref name="deadline"/>.</summary>
    public static async Task<TimeSpan?> UntilAnsweredByAsync(string clientNetns, IPEndPoint vip, string expected, long since, TimeSpan deadline, CancellationToken ct)
    {
        var answered = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(deadline);
        var attempts = new List<Task>();
        async Task AttemptAsync()
        {
            try
            {
                if (await NodeNameProbe.AskAsync(clientNetns, vip, TimeSpan.FromSeconds(1), cts.Token) == expected)
                    answered.TrySetResult(Stopwatch.GetTimestamp());
            }
            catch (OperationCanceledException) { }
        }
        while (!answered.Task.IsCompleted && !cts.IsCancellationRequested)
        {
            attempts.Add(AttemptAsync());
            await Task.WhenAny(answered.Task, Task.Delay(Interval, CancellationToken.None));
        }
        await cts.CancelAsync();
        await Task.WhenAll(attempts);
        ct.ThrowIfCancellationRequested();
        return answered.Task.IsCompletedSuccessfully ? Stopwatch.GetElapsedTime(since, answered.Task.Result) : null;
    }
}
