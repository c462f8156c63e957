using Appliance.Lab.NetLab;

namespace Appliance.Bench.Lab;

/// <summary>
/// One round of one <see cref="LabScenario"/> on a running lab: a <see cref="LabRun"/>, the flow the
/// scenario tests assert on, measured here instead: the write gap around the fault, the gap when the
/// repaired node returns, the writes lost and the client operations that failed.
/// </summary>
public sealed class FaultRound
{
    /// <summary>The round's token bounds every wait: it carries the deadline.</summary>
    static readonly TimeSpan Unbounded = TimeSpan.FromDays(1);

    FaultRound(LabRun run, CancellationToken cancel)
    {
        Run = run;
        Cancel = cancel;
    }

    public LabRun Run { get; }
    public NetLab Lab => Run.Lab;
    public LabFaults Faults => Run.Faults;
    public string Leader => Run.Leader;
    public string VipHolder => Run.VipHolder;
    /// <summary>Cancelled when the round's deadline passes.</summary>
    public CancellationToken Cancel { get; }

    /// <summary>Runs one round; <paramref name="ct"/> carries the round's deadline. <paramref name="step"/> hears each step as it begins.</summary>
    public static async Task<FaultOutcome> RunAsync(NetLab lab, LabFaults faults, LabScenario scenario, Action<string> step, CancellationToken ct)
    {
        step("waiting for a healthy lab and writes through the VIP");
        await using var run = await LabRun.StartAsync(lab, faults, Unbounded, ct);
        var round = new FaultRound(run, ct);

        step($"{scenario.Name}");
        run.MarkFault();
        var did = await scenario.Fault(round);
        step("waiting until writes go through the VIP again");
        await run.WaitAsync(scenario.Name, h => scenario.Recovered(round, h), Unbounded, ct);
        await run.WaitAckedAsync(run.FaultAt, Unbounded, ct);

        var repairAt = run.Workload.Elapsed;
        if (scenario.Repair is { } repair)
        {
            step("repairing");
            await repair(round);
        }
        step("waiting until the lab is healthy again");
        var (result, after) = await run.FinishAsync(Unbounded, ct);
        var history = run.Workload.History;
        var gaps = history.WriteGaps(TimeSpan.Zero);
        var gap = gaps.FirstOrDefault(g => g.To > run.FaultAt && g.From < repairAt)?.Duration ?? TimeSpan.Zero;
        TimeSpan? returnGap = scenario.Repair is null ? null : gaps.FirstOrDefault(g => g.From >= repairAt)?.Duration ?? TimeSpan.Zero;
        var failed = history.Operations.Count(o => !o.IsAcked && o.End > run.FaultAt);
        return new FaultOutcome(gap, returnGap, result.Lost.Count, failed,
            $"{did}; leader {run.Before.Leader} -> {after.Leader}, VIP {run.Before.VipHolders[0]} -> {after.VipHolders[0]}");
    }
}
