using System.Diagnostics;
using Appliance.Lab.Checker;
using Appliance.Lab.NetLab;

namespace Appliance.Lab.Vm;

/// <summary>What one run of <see cref="VmLabScenario"/> measured.</summary>
public sealed record VmLabResult
{
    public required TimeSpan BootToHealthy { get; init; }
    public required string CrashedPrimary { get; init; }
    public required string NewLeader { get; init; }
    /// <summary>From the primary VM's crash until another member runs as primary.</summary>
    public required TimeSpan NewLeaderAfter { get; init; }
    public required WriteGap? PrimaryGap { get; init; }
    public required string CrashedBalancer { get; init; }
    public required string NewVipHolder { get; init; }
    /// <summary>From the VRRP master VM's crash until the other balancer says it is master.</summary>
    public required TimeSpan VipMovedAfter { get; init; }
    public required WriteGap? BalancerGap { get; init; }
    /// <summary>From booting both crashed VMs again until the lab is healthy with all five.</summary>
    public required TimeSpan RejoinedAfter { get; init; }
    /// <summary>The longest write gap while they rejoin (the returning balancer taking the VIP back).</summary>
    public required WriteGap? RejoinGap { get; init; }
    public required CheckResult Check { get; init; }
    public required IReadOnlyList<string> Violations { get; init; }

    public IEnumerable<string> Lines()
    {
        yield return $"healthy after boot:      {BootToHealthy.TotalSeconds:0} s";
        yield return $"primary VM crash:        {CrashedPrimary} killed; {NewLeader} leads after {NewLeaderAfter.TotalSeconds:0.0} s; write gap {PrimaryGap?.ToString() ?? "none"}";
        yield return $"VRRP master VM crash:    {CrashedBalancer} killed; {NewVipHolder} holds the VIP after {VipMovedAfter.TotalSeconds:0.0} s; write gap {BalancerGap?.ToString() ?? "none"}";
        yield return $"both booted again:       rejoined after {RejoinedAfter.TotalSeconds:0} s; longest write gap meanwhile {RejoinGap?.ToString() ?? "none"}";
        yield return $"checker:                 {(Violations.Count == 0 ? "PASS (nothing acknowledged lost, no split brain, the bank holds)" : "FAIL")}";
        foreach (var v in Violations) yield return $"  {v}";
        foreach (var l in Check.Summary.Split('\n')) yield return $"  {l}";
    }
}

/// <summary>
/// The VM lab's scenario, shared by <c>just vm-lab</c> and the opt-in test: the checker's workload through
/// the VIP from a client in the namespace while the primary's VM crashes, then the VRRP master's VM; then
/// both boot again and rejoin, and the history is checked against the final state.
/// </summary>
public static class VmLabScenario
{
    // Software emulation on two shared cores: generous deadlines everywhere.
    public static readonly TimeSpan BootDeadline = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan FaultDeadline = TimeSpan.FromMinutes(5);

    public static async Task<VmLabResult> RunAsync(VmLab lab, TextWriter output, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await output.WriteLineAsync("waiting for a leader, two streaming replicas and one VIP holder answering on VIP:5000 ...");
        var before = await lab.WaitAsync("the lab is healthy", h => h.IsHealthy, output, BootDeadline, ct);
        var bootToHealthy = clock.Elapsed;
        await output.WriteLineAsync($"healthy after {bootToHealthy.TotalSeconds:0} s: {before.Leader} leads, {before.VipHolders[0]} holds the VIP");
        await lab.WaitSyncStandbyAsync(before.Leader!, output, FaultDeadline, ct);

        await using var workload = await Workload.StartAsync(new WorkloadOptions
        {
            ConnectionString = lab.Probe.ConnectionString("vip.primary"),
            // Five emulated VMs on two cores: a lighter load than the namespace lab's, so the cluster is not saturated.
            WritesPerSecond = 40, ConnectTimeout = TimeSpan.FromSeconds(5), SetupTimeout = TimeSpan.FromMinutes(3),
        }, ct);
        await WaitAckedAsync(workload, TimeSpan.Zero, output, ct);

        // The primary's VM: power cord pulled; its lease runs out and a replica takes over.
        var primary = before.Leader!;
        var primaryAt = workload.Elapsed;
        await output.WriteLineAsync($"crashing {primary} (the primary's VM: QEMU killed) at {primaryAt.TotalSeconds:0.0} s on the workload's clock ...");
        var faultClock = Stopwatch.StartNew();
        await lab.CrashAsync(primary);
        var led = await lab.WaitAsync("another member leads", h => h.Leader is { } l && l != primary, output, FaultDeadline, ct);
        var newLeaderAfter = faultClock.Elapsed;
        await output.WriteLineAsync($"{led.Leader} leads after {newLeaderAfter.TotalSeconds:0.0} s");
        await WaitAckedAsync(workload, primaryAt, output, ct);

        // The VRRP master's VM: the other balancer's master-down timer runs out and it takes the VIP.
        var holders = (await lab.ReadAsync(ct)).VipHolders;
        var holder = holders.Count > 0 ? holders[0] : before.VipHolders[0];
        var balancerAt = workload.Elapsed;
        await output.WriteLineAsync($"crashing {holder} (the VRRP master's VM: QEMU killed) at {balancerAt.TotalSeconds:0.0} s on the workload's clock ...");
        faultClock.Restart();
        await lab.CrashAsync(holder);
        var moved = await lab.WaitAsync("the other balancer holds the VIP", h => h.VipHolders is [var b] && b != holder, output, FaultDeadline, ct);
        var vipMovedAfter = faultClock.Elapsed;
        await output.WriteLineAsync($"{moved.VipHolders[0]} holds the VIP after {vipMovedAfter.TotalSeconds:0.0} s");
        await WaitAckedAsync(workload, balancerAt, output, ct);

        var bootAt = workload.Elapsed;
        await output.WriteLineAsync($"booting {primary} and {holder} again (from their disks) at {bootAt.TotalSeconds:0.0} s on the workload's clock ...");
        faultClock.Restart();
        await lab.BootAsync(primary);
        await lab.BootAsync(holder);
        await lab.WaitAsync("both rejoined: a leader, two streaming replicas, one VIP holder", h => h.IsHealthy, output, BootDeadline, ct);
        var rejoinedAfter = faultClock.Elapsed;
        await output.WriteLineAsync($"rejoined after {rejoinedAfter.TotalSeconds:0} s");

        // A returning lb1 (higher priority) takes the VIP back: let that happen inside the run.
        await WaitAckedAsync(workload, workload.Elapsed + LabRun.Settle(lab.Profile), output, ct);
        var history = await workload.StopAsync();
        var final = await FinalStateReader.ReadAsync(lab.Probe.ConnectionString("vip.primary"), history, TimeSpan.FromMinutes(2), ct);
        var check = Checker.Checker.Check(history, final);
        var gaps = history.WriteGaps(TimeSpan.Zero);
        return new VmLabResult
        {
            BootToHealthy = bootToHealthy,
            CrashedPrimary = primary, NewLeader = led.Leader!, NewLeaderAfter = newLeaderAfter, PrimaryGap = GapAround(gaps, primaryAt, balancerAt),
            CrashedBalancer = holder, NewVipHolder = moved.VipHolders[0], VipMovedAfter = vipMovedAfter, BalancerGap = GapAround(gaps, balancerAt, bootAt),
            RejoinedAfter = rejoinedAfter, RejoinGap = GapAround(gaps, bootAt, TimeSpan.MaxValue),
            Check = check, Violations = check.Violations(lab.Profile.SynchronousMode),
        };
    }

    /// <summary>The longest write gap that ends after the fault at <paramref name="from"/> and begins before the next one.</summary>
    static WriteGap? GapAround(IReadOnlyList<WriteGap> gaps, TimeSpan from, TimeSpan until) =>
        gaps.Where(g => g.To > from && g.From < until).MaxBy(g => g.Duration);

    /// <summary>Waits until 20 writes begun after <paramref name="after"/> are acknowledged through the VIP, showing the workload's progress.</summary>
    static async Task WaitAckedAsync(Workload workload, TimeSpan after, TextWriter output, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var lastShown = TimeSpan.Zero;
        while (workload.History.Operations.Count(o => o.IsAcked && o.Start > after) < 20)
        {
            if (clock.Elapsed > FaultDeadline) throw new TimeoutException($"writes did not resume through the VIP within {FaultDeadline.TotalMinutes:0} min: {workload.Snapshot()}");
            if (clock.Elapsed - lastShown >= TimeSpan.FromSeconds(5))
            {
                lastShown = clock.Elapsed;
                await output.WriteLineAsync($"  workload {workload.Snapshot()}");
            }
            await Task.Delay(200, ct);
        }
    }
}
