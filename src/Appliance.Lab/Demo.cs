using Appliance.Lab.Checker;
using Appliance.Lab.NetLab;

namespace Appliance.Lab;

/// <summary>
/// The main job: the lab comes up (our stack, production profile), a client writes through the VIP
/// while the demo crashes the primary and then the balancer holding the VIP, the client's view is shown
/// second by second and judged by the checker, and the lab stays up for the user to explore until
/// Ctrl-C or <c>just lab down</c>.
/// </summary>
public static class Demo
{
    public static async Task<int> RunAsync(string repoRoot, TextWriter o, CancellationToken stop)
    {
        if (LabCommand.AlreadyRunning(repoRoot) is { } running)
        {
            await o.WriteLineAsync(running);
            return 2;
        }
        var path = LabDescription.PathIn(repoRoot);
        await o.WriteLineAsync("""
            Appliance demo: three database nodes (etcd member, PostgreSQL 15, appliance-agent), two balancer
            nodes (appliance-balancer: proxy + VRRP) sharing a VIP, and a client, each in its own network
            namespace on a private bridge. Starting:
            """);
        try
        {
            await using var lab = await NetLab.NetLab.StartAsync(new ApplianceStack(), LabProfile.Production, LabBinaries.Locate(repoRoot),
                o, TimeSpan.FromMinutes(5), stop);
            LabDescription.Write(path, lab, "up");
            await o.WriteLineAsync();
            await LabCommand.PrintStatusAsync(LabDescription.Read(path), o, stop);
            await ShowFailoversAsync(lab, o, stop);
            await o.WriteLineAsync($"""

                The lab keeps running: explore it with the commands above, `npx --yes rust-just lab status`,
                or appliancectl (artifacts/bin/appliancectl). Ctrl-C (or `npx --yes rust-just lab down`) removes it all.
                """);
            await LabDescription.HostAsync(path, lab, stop);
            await o.WriteLineAsync("\nStopping the demo: every process, namespace and file it made goes.");
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await o.WriteLineAsync("\nInterrupted: the demo removed everything it made.");
            return 1;
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A live workload through the VIP while the primary's host and then the VRRP master crash.</summary>
    static async Task ShowFailoversAsync(NetLab.NetLab lab, TextWriter o, CancellationToken stop)
    {
        var faults = new LabFaults(lab);
        await o.WriteLineAsync("\nA client in the client namespace now writes through the VIP (inserts and bank transfers):");
        await using var workload = await Workload.StartAsync(new WorkloadOptions { ConnectionString = lab.Probe.ConnectionString("vip.primary") }, stop);
        await WatchAsync(workload, o, TimeSpan.FromSeconds(4), stop);

        var before = await lab.Probe.ReadAsync(stop);
        var primary = before.Leader!;
        await o.WriteLineAsync($"\n>>> Crashing the primary {primary}: every process on it killed, its cable pulled.");
        var crashAt = workload.Elapsed;
        await faults.CrashNodeAsync(primary);
        await WatchUntilAsync(workload, o, () => WritesResumed(workload, crashAt), stop);
        var after = await lab.Probe.ReadAsync(stop);
        await o.WriteLineAsync($"    The primary moved {primary} -> {after.Leader}; the client's longest write gap: {Gap(workload, crashAt)}.");
        await o.WriteLineAsync($"    {primary} boots again and rejoins as a replica:");
        await faults.BootNodeAsync(primary);
        await lab.WaitHealthyAsync(o, TimeSpan.FromMinutes(3), stop);

        var holder = (await lab.Probe.ReadAsync(stop)).VipHolders[0];
        await o.WriteLineAsync($"\n>>> Crashing the balancer {holder}, which holds the VIP.");
        var lbCrashAt = workload.Elapsed;
        await faults.CrashNodeAsync(holder);
        await WatchUntilAsync(workload, o, () => WritesResumed(workload, lbCrashAt), stop);
        var moved = await lab.Probe.ReadAsync(stop);
        await o.WriteLineAsync($"    The VIP moved {holder} -> {string.Join(",", moved.VipHolders)}; the client's longest write gap: {Gap(workload, lbCrashAt)}.");
        await faults.BootNodeAsync(holder);
        await lab.WaitHealthyAsync(TextWriter.Null, TimeSpan.FromMinutes(3), stop);

        var history = await workload.StopAsync();
        var final = await FinalStateReader.ReadAsync(lab.Probe.ConnectionString("vip.primary"), history, TimeSpan.FromMinutes(1), stop);
        var result = Checker.Checker.Check(history, final);
        var violations = result.Violations(lab.Profile.SynchronousMode);
        await o.WriteLineAsync($"\nWhat the client saw, checked against the final state (synchronous mode: nothing acknowledged may be lost):\n{result.Summary}");
        await o.WriteLineAsync(violations.Count == 0 ? "Verdict: no acknowledged write lost, the bank total held, one writer at a time."
            : $"Verdict: VIOLATIONS:\n  {string.Join("\n  ", violations)}");
    }

    static bool WritesResumed(Workload w, TimeSpan after) => w.History.Operations.Count(op => op.IsAcked && op.Start > after) >= 20;

    static string Gap(Workload w, TimeSpan after) =>
        w.History.WriteGaps(TimeSpan.Zero).Where(g => g.To > after).MaxBy(g => g.Duration)?.ToString() ?? "none";

    static async Task WatchAsync(Workload w, TextWriter o, TimeSpan span, CancellationToken ct)
    {
        var until = w.Elapsed + span;
        await WatchUntilAsync(w, o, () => w.Elapsed >= until, ct);
    }

    /// <summary>Prints the client's view every second until <paramref name="done"/>, then two more seconds.</summary>
    static async Task WatchUntilAsync(Workload w, TextWriter o, Func<bool> done, CancellationToken ct)
    {
        var deadline = w.Elapsed + TimeSpan.FromMinutes(3);
        while (!done() && w.Elapsed < deadline)
        {
            await o.WriteLineAsync($"    {w.Snapshot()}");
            await Task.Delay(1000, ct);
        }
        await o.WriteLineAsync($"    {w.Snapshot()}");
    }
}
