using Appliance.Lab.Checker;
using Appliance.Lab.NetLab;
using Workload = Appliance.Lab.Checker.Workload;

namespace Appliance.Bench.Lab;

/// <summary>
/// One round of one <see cref="LabScenario"/> on a running lab, run the way the scenario tests run one
/// (tests/Appliance.Scenario.Tests/ScenarioRun.cs) but measuring instead of asserting: wait until the
/// lab is healthy, run the checker's workload through the VIP's read-write listener, break something,
/// wait until writes are acknowledged again, repair, wait until the lab is healthy (the node rejoined)
/// and writes flowed a while longer, then read the final state and check the history.
/// </summary>
public sealed class FaultRound
{
    /// <summary>
    /// How long writes keep flowing after the lab is healthy again, so a late disturbance is seen in
    /// this round and not the next: a booted balancer with the higher priority takes the VIP back once
    /// its master-down timer (3 adverts and the skew) runs out, after it started.
    /// </summary>
    static TimeSpan Settle(LabProfile p) => TimeSpan.FromSeconds(Math.Max(2, 3 * p.AdvertInterval + 3));

    /// <summary>The round's token bounds every wait: it carries the deadline.</summary>
    static readonly TimeSpan Unbounded = TimeSpan.FromDays(1);

    FaultRound(NetLab lab, LabFaults faults, LabHealth before, CancellationToken cancel)
    {
        Lab = lab;
        Faults = faults;
        Before = before;
        Cancel = cancel;
    }

    public NetLab Lab { get; }
    public LabFaults Faults { get; }
    /// <summary>The lab as it was before the fault.</summary>
    public LabHealth Before { get; }
    public string Leader => Before.Leader!;
    public string VipHolder => Before.VipHolders[0];
    /// <summary>Cancelled when the round's deadline passes.</summary>
    public CancellationToken Cancel { get; }

    /// <summary>Runs one round; <paramref name="ct"/> carries the round's deadline. <paramref name="step"/> hears each step as it begins.</summary>
    public static async Task<FaultOutcome> RunAsync(NetLab lab, LabFaults faults, LabScenario scenario, Action<string> step, CancellationToken ct)
    {
        step("waiting for a healthy lab");
        var before = await lab.WaitHealthyAsync(TextWriter.Null, Unbounded, ct);
        var round = new FaultRound(lab, faults, before, ct);
        step("starting the workload through the VIP");
        await using var workload = await Workload.StartAsync(new WorkloadOptions { ConnectionString = lab.Probe.ConnectionString("vip.primary") }, ct);
        await WaitAckedAsync(workload, TimeSpan.Zero, ct);

        step($"{scenario.Name}");
        var faultAt = workload.Elapsed;
        var did = await scenario.Fault(round);
        step("waiting until writes go through the VIP again");
        await WaitUntilAsync(lab, h => scenario.Recovered(round, h), ct);
        await WaitAckedAsync(workload, faultAt, ct);

        var repairAt = workload.Elapsed;
        if (scenario.Repair is { } repair)
        {
            step("repairing");
            await repair(round);
        }
        step("waiting until the lab is healthy again");
        var after = await lab.WaitHealthyAsync(TextWriter.Null, Unbounded, ct);
        await WaitAckedAsync(workload, workload.Elapsed + Settle(lab.Profile), ct);
        var history = await workload.StopAsync();

        step("reading the final state");
        var final = await FinalStateReader.ReadAsync(lab.Probe.ConnectionString("vip.primary"), history, TimeSpan.FromMinutes(1), ct);
        var result = Checker.Check(history, final);
        var gaps = history.WriteGaps(TimeSpan.Zero);
        var gap = gaps.FirstOrDefault(g => g.To > faultAt && g.From < repairAt)?.Duration ?? TimeSpan.Zero;
        TimeSpan? returnGap = scenario.Repair is null ? null : gaps.FirstOrDefault(g => g.From >= repairAt)?.Duration ?? TimeSpan.Zero;
        var failed = history.Operations.Count(o => !o.IsAcked && o.End > faultAt);
        return new FaultOutcome(gap, returnGap, result.Lost.Count, failed,
            $"{did}; leader {before.Leader} -> {after.Leader}, VIP {before.VipHolders[0]} -> {after.VipHolders[0]}");
    }

    /// <summary>
    /// Undoes whatever a round that failed half-way left broken: every node with a service down boots
    /// again (cable back, its services started), then the lab must become healthy within <paramref name="deadline"/>.
    /// </summary>
    public static async Task RestoreAsync(NetLab lab, LabFaults faults, TimeSpan deadline, CancellationToken ct)
    {
        foreach (var node in lab.Nodes.Where(n => n.Services.Any(s => !s.IsRunning)).ToList())
            await faults.BootNodeAsync(node.Name);
        await lab.WaitHealthyAsync(TextWriter.Null, deadline, ct);
    }

    /// <summary>Waits until at least 20 writes that began after <paramref name="from"/> are acknowledged.</summary>
    static async Task WaitAckedAsync(Workload workload, TimeSpan from, CancellationToken ct)
    {
        while (workload.History.Operations.Count(o => o.IsAcked && o.Start > from) < 20) await Task.Delay(100, ct);
    }

    static async Task WaitUntilAsync(NetLab lab, Func<LabHealth, bool> condition, CancellationToken ct)
    {
        while (!condition(await lab.Probe.ReadAsync(ct))) await Task.Delay(200, ct);
    }
}
