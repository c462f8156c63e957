using Appliance.Simulator;
using Appliance.Simulator.Models;
using Xunit.Abstractions;

namespace Appliance.Simulator.Tests;

/// <summary>The real HA code on the simulator's models: repeatable seeds, and the safety invariants over many random fault schedules.</summary>
public sealed class SimulatorTests(ITestOutputHelper output)
{
    /// <summary>Liveness failures the simulator found and that are not fixed yet (README, "The simulator"): reported, not hidden.</summary>
    static readonly string[] Liveness = ["did not bootstrap", "no leader took writes", "not every node rejoined"];

    [Fact]
    public void A_seed_replays_exactly()
    {
        var first = Simulation.Run(7);
        var second = Simulation.Run(7);
        Assert.Equal(first.Trace, second.Trace);
        Assert.True(first.Acks > 0, "the client's writes were acknowledged");
    }

    [Fact]
    public void No_schedule_breaks_a_safety_invariant()
    {
        var report = SimRunner.Run(1, 600, LeaderRenewal.Conditional);
        output.WriteLine($"scenario simulator: {report.Schedules} schedules, {report.Violations.Count} violations");
        foreach (var v in report.Violations) output.WriteLine(v.Describe());
        var safety = report.Violations.Where(v => !Liveness.Any(l => v.Violation!.Contains(l, StringComparison.Ordinal))).ToList();
        Assert.True(safety.Count == 0, string.Join("\n", safety.Select(v => v.Describe() + "\n" + Tail(v.Trace))));
    }

    static string Tail(string trace) => string.Join('\n', trace.Split('\n').TakeLast(80));
}
