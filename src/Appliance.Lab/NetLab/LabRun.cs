using System.Net.Http;
using Appliance.Lab.Checker;

namespace Appliance.Lab.NetLab;

/// <summary>
/// One fault on a running lab under the checker's workload, the flow the scenario tests assert on and
/// the lab benchmark measures: wait until the lab is healthy, run the workload through the VIP's
/// read-write listener, let the caller break something and wait for the lab to answer, then wait
/// until it is healthy again (the broken node rejoined), let writes settle, and check the history.
/// </summary>
public sealed class LabRun : IAsyncDisposable
{
    static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };

    LabRun(NetLab lab, LabFaults faults, LabHealth before, Workload workload)
    {
        Lab = lab;
        Faults = faults;
        Before = before;
        Workload = workload;
    }

    public NetLab Lab { get; }
    public LabFaults Faults { get; }
    /// <summary>The lab as it was before the fault.</summary>
    public LabHealth Before { get; }
    public string Leader => Before.Leader!;
    public string VipHolder => Before.VipHolders[0];
    public Workload Workload { get; }
    /// <summary>When the fault happened, on the workload's clock (<see cref="MarkFault"/>).</summary>
    public TimeSpan FaultAt { get; private set; }

    /// <summary>Waits (within <paramref name="deadline"/>) until the lab is healthy and writes flow through the VIP.</summary>
    public static async Task<LabRun> StartAsync(NetLab lab, LabFaults faults, TimeSpan deadline, CancellationToken ct = default)
    {
        var before = await lab.WaitHealthyAsync(TextWriter.Null, deadline, ct);
        var workload = await Workload.StartAsync(new WorkloadOptions { ConnectionString = lab.Probe.ConnectionString("vip.primary") }, ct);
        var run = new LabRun(lab, faults, before, workload);
        try
        {
            await run.WaitAckedAsync(TimeSpan.Zero, deadline, ct);
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    /// <summary>Records the instant of the fault: gaps and waits for writes count from here.</summary>
    public void MarkFault() => FaultAt = Workload.Elapsed;

    /// <summary>Waits until the lab satisfies <paramref name="condition"/>; a timeout names what it last saw and the logs.</summary>
    public async Task<LabHealth> WaitAsync(string what, Func<LabHealth, bool> condition, TimeSpan deadline, CancellationToken ct = default)
    {
        LabHealth? seen = null;
        await PollAsync(async token => condition(seen = await Lab.Probe.ReadAsync(token)), deadline,
            () => $"{what}\nlast seen:\n  {string.Join("\n  ", seen?.Lines() ?? [])}\n{Lab.LogTails()}", ct);
        return seen!;
    }

    /// <summary>Waits until 20 writes that began after <paramref name="after"/> are acknowledged.</summary>
    public Task WaitAckedAsync(TimeSpan after, TimeSpan deadline, CancellationToken ct = default)
        => PollAsync(_ => Task.FromResult(Workload.History.Operations.Count(o => o.IsAcked && o.Start > after) >= 20), deadline,
            () => $"writes acknowledged through the VIP: {Workload.Snapshot()}", ct);

    /// <summary>
    /// In synchronous mode, waits until a replica is the synchronous standby (GET /sync answers 200 on
    /// both stacks): before that, a switchover has no candidate (412).
    /// </summary>
    public Task WaitSyncStandbyAsync(TimeSpan deadline, CancellationToken ct = default)
        => !Lab.Profile.SynchronousMode ? Task.CompletedTask : PollAsync(async token =>
        {
            foreach (var d in Lab.Databases.Where(d => d.Name != Leader))
            {
                try
                {
                    using var r = await Http.GetAsync($"{Lab.Probe.ApiUrl(d.Name)}/sync", token);
                    if (r.IsSuccessStatusCode) return true;
                }
                catch (HttpRequestException) { }
            }
            return false;
        }, deadline, () => "a replica is the synchronous standby (GET /sync answers 200)", ct);

    /// <summary>Polls <paramref name="done"/> until it holds; after <paramref name="deadline"/> a TimeoutException with <paramref name="what"/>.</summary>
    static async Task PollAsync(Func<CancellationToken, Task<bool>> done, TimeSpan deadline, Func<string> what, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(deadline);
        try
        {
            while (!await done(timeout.Token)) await Task.Delay(100, timeout.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"not within {deadline.TotalSeconds:0}s: {what()}");
        }
    }

    /// <summary>
    /// How long writes keep flowing after the lab is healthy again, so a late disturbance belongs to
    /// this run: a booted balancer with the higher priority takes the VIP back once its master-down
    /// timer (3 adverts and the skew) runs out.
    /// </summary>
    public static TimeSpan Settle(LabProfile p) => TimeSpan.FromSeconds(Math.Max(2, 3 * p.AdvertInterval + 3));

    /// <summary>
    /// Waits until the lab is healthy again, lets writes settle, stops the workload and checks its
    /// history against the final state read through the VIP.
    /// </summary>
    public async Task<(CheckResult Result, LabHealth After)> FinishAsync(TimeSpan deadline, CancellationToken ct = default)
    {
        var after = await Lab.WaitHealthyAsync(TextWriter.Null, deadline, ct);
        await WaitAckedAsync(Workload.Elapsed + Settle(Lab.Profile), deadline, ct);
        var history = await Workload.StopAsync();
        var final = await FinalStateReader.ReadAsync(Lab.Probe.ConnectionString("vip.primary"), history, TimeSpan.FromMinutes(1), ct);
        return (Checker.Checker.Check(history, final), after);
    }

    /// <summary>
    /// Undoes whatever a run that failed half-way left broken: partitions healed, every node's cable
    /// back, frozen services thawed and stopped ones started, then the lab must become healthy.
    /// </summary>
    public static async Task RestoreAsync(NetLab lab, LabFaults faults, TimeSpan deadline, CancellationToken ct = default)
    {
        await faults.HealAsync();
        foreach (var node in lab.Nodes)
        {
            // A crashed node boots (its interface reset); a live one only gets its cable back and its
            // stopped services started, its addresses (and the connections on them) left alone.
            if (node.Services.All(s => !s.IsRunning)) await faults.BootNodeAsync(node.Name);
            else
            {
                await faults.SetLinkAsync(node.Name, up: true);
                foreach (var s in node.Services.Where(s => !s.IsRunning)) s.Start();
            }
            foreach (var s in node.Services) s.Signal(Tmds.Linux.LibC.SIGCONT);
        }
        await lab.WaitHealthyAsync(TextWriter.Null, deadline, ct);
    }

    public ValueTask DisposeAsync() => Workload.DisposeAsync();
}
