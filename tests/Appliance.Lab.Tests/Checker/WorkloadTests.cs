using Appliance.Lab.Checker;
using Appliance.TestKit;
using Xunit.Abstractions;
using CheckerRules = Appliance.Lab.Checker.Checker;

namespace Appliance.Lab.Tests.Checker;

/// <summary>The workload against a real PostgreSQL 15 that crashes and comes back: the whole loop a scenario test runs, on one node.</summary>
public class WorkloadTests(ITestOutputHelper output)
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Rides_out_a_crash_and_restart_with_nothing_lost()
    {
        await using var pg = await ThrowAwayPostgres.StartAsync();
        await using var workload = await Workload.StartAsync(new() { ConnectionString = pg.ConnectionString, WritesPerSecond = 100, Seed = 42 });

        await Wait.UntilAsync("50 writes of each kind acknowledged", () => AckedOfEach(workload.History, after: TimeSpan.Zero) >= 50, Deadline);
        var running = workload.Snapshot();
        Assert.True(running.AckedLastSecond > 0 && running.SinceLastAck < TimeSpan.FromSeconds(1) && running.LastServer is not null, running.ToString());
        await pg.CrashAsync();
        var downFrom = workload.Elapsed;
        await Wait.UntilAsync("the outage lasts a second and each kind of client sees it fail", () =>
            workload.Elapsed - downFrom >= TimeSpan.FromSeconds(1) && FailedOfEach(workload.History, after: downFrom) >= 3, Deadline);
        Assert.True(workload.Snapshot().SinceLastAck >= TimeSpan.FromSeconds(1), workload.Snapshot().ToString());
        var downTo = workload.Elapsed;
        await pg.StartAgainAsync();
        await Wait.UntilAsync("50 writes of each kind acknowledged after the restart", () => AckedOfEach(workload.History, after: downTo) >= 50, Deadline);
        var history = await workload.StopAsync();

        var final = await FinalStateReader.ReadAsync(pg.ConnectionString, history, Deadline);
        var result = CheckerRules.Check(history, final);
        output.WriteLine($"outage {downFrom.TotalSeconds:0.000} s .. {downTo.TotalSeconds:0.000} s\n{result.Summary}");
        output.WriteLine(string.Join("\n", history.Rates().Select(r => $"{r.Start.TotalSeconds,4:0}s {r.Acked,4} ok {r.Failed,4} failed {r.Indeterminate,4} indeterminate")));

        Assert.True(result.Violations(synchronous: true).Count == 0, string.Join("\n", result.Violations(synchronous: true)) + "\n" + result.Summary);
        Assert.True(result.Inserts.Ok >= 100 && result.Transfers.Ok >= 100, result.Summary);
        Assert.True(result.Inserts.Failed > 0 && result.Transfers.Failed > 0, result.Summary);
        Assert.Equal(5000, result.BankTotal);
        Assert.Single(result.Serving.Select(p => p.Server).Distinct());
        Assert.Equal(1, result.Serving[0].Server.Timeline);
        Assert.StartsWith("127.0.0.1:", result.Serving[0].Server.Node, StringComparison.Ordinal);
        var nobody = $"Host=127.0.0.1;Port={FreePorts.Next()};Username=postgres;Database=postgres";
        var fromPrimary = await FinalStateReader.ReadFromPrimaryAsync([nobody, pg.ConnectionString], history, Deadline);
        Assert.Equal(final.InsertIds.Order(), fromPrimary.InsertIds.Order());
        var gap = result.LongestWriteGap!;
        Assert.True(gap.From <= downFrom && gap.To >= downTo, $"longest write gap {gap} should cover the outage {downFrom}..{downTo}\n{result.Summary}");
    }

    static int AckedOfEach(History h, TimeSpan after) => CountOfEach(h, after, Outcome.Ok);

    static int FailedOfEach(History h, TimeSpan after) => CountOfEach(h, after, Outcome.Failed);

    static int CountOfEach(History h, TimeSpan after, Outcome outcome)
    {
        var ops = h.Operations.Where(o => o.Start >= after && o.Outcome == outcome).ToList();
        return Math.Min(ops.Count(o => o.Kind == OpKind.Insert), ops.Count(o => o.Kind == OpKind.Transfer));
    }
}
