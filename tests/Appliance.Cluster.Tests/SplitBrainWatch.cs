using Appliance.TestKit;
using Appliance.Lab;

namespace Appliance.Cluster.Tests;

/// <summary>
/// Samples every member until stopped and counts the moments when more than one accepted a write:
/// invariant 1 of the design, checked from a client's point of view.
/// </summary>
public sealed class SplitBrainWatch : IDisposable
{
    readonly CancellationTokenSource _stop = new();
    readonly Task<int> _task;

    public SplitBrainWatch(LocalCluster c) => _task = Task.Run(async () =>
    {
        var violations = 0;
        while (!_stop.IsCancellationRequested)
        {
            var writable = await Task.WhenAll(c.Members.Select(m => c.AcceptsWritesAsync(m.Name)));
            if (writable.Count(w => w) > 1) violations++;
            try { await Task.Delay(200, _stop.Token); } catch (OperationCanceledException) { }
        }
        return violations;
    });

    /// <summary>Stops sampling; returns how many samples saw two writable nodes.</summary>
    public int Stop()
    {
        _stop.Cancel();
        return _task.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        if (!_stop.IsCancellationRequested) Stop();
        _stop.Dispose();
    }
}
