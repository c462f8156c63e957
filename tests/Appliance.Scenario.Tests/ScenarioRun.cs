using System.Diagnostics;
using Appliance.Lab.Checker;
using Appliance.Lab.NetLab;
using Xunit.Abstractions;

namespace Appliance.Scenario.Tests;

/// <summary>
/// One scenario on the shared lab: a <see cref="LabRun"/> (healthy lab, the checker's workload through
/// the VIP, the fault, recovery, the check) that prints every measured time as "scenario …" lines
/// and fails on any broken guarantee. A scenario that fails half-way undoes its fault for the next.
/// </summary>
public sealed class ScenarioRun : IAsyncDisposable
{
    /// <summary>Generous: a failover takes about a lease (10 s in the production profile, 30 s in the seed's).</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    readonly LabRun _run;
    readonly ITestOutputHelper _output;
    readonly Stopwatch _sinceFault = new();
    bool _finished;

    ScenarioRun(string name, LabRun run, ITestOutputHelper output)
    {
        Name = name;
        _run = run;
        _output = output;
    }

    public string Name { get; }
    public NetLab Lab => _run.Lab;
    public LabFaults Faults => _run.Faults;
    public string Leader => _run.Leader;
    public string VipHolder => _run.VipHolder;

    public static async Task<ScenarioRun> StartAsync(LabFixture f, string name, ITestOutputHelper output)
    {
        var run = await LabRun.StartAsync(f.Lab, f.Faults, Deadline);
        output.WriteLine($"scenario {name}: before: leader {run.Leader}, VIP on {run.VipHolder}");
        return new ScenarioRun(name, run, output);
    }

    /// <summary>Marks the instant of the fault: times below count from here.</summary>
    public void Fault(string what)
    {
        _run.MarkFault();
        _sinceFault.Start();
        _output.WriteLine($"scenario {Name}: fault: {what}");
    }

    /// <summary>Prints how long after the fault <paramref name="what"/> happened, and returns it.</summary>
    public TimeSpan Measure(string what)
    {
        var t = _sinceFault.Elapsed;
        _output.WriteLine($"scenario {Name}: {what} after {t.TotalSeconds:0.00} s");
        return t;
    }

    /// <summary>Waits until the lab satisfies <paramref name="condition"/>, then prints the time since the fault.</summary>
    public async Task<LabHealth> WaitAsync(string what, Func<LabHealth, bool> condition)
    {
        var health = await _run.WaitAsync(what, condition, Deadline);
        Measure(what);
        return health;
    }

    /// <summary>Waits until writes that began after the fault are acknowledged, then prints the time since the fault.</summary>
    public async Task WaitAckedAsync(string what)
    {
        await _run.WaitAckedAsync(_run.FaultAt, Deadline);
        Measure(what);
    }

    /// <summary>In synchronous mode, waits for a synchronous standby (a switchover's only possible candidate).</summary>
    public Task WaitSyncStandbyAsync() => _run.WaitSyncStandbyAsync(Deadline);

    /// <summary>
    /// Waits until the lab is healthy again, checks the workload's history and fails on a broken
    /// guarantee: an acknowledged write lost (beyond the lag budget without synchronous mode), the
    /// bank total, split brain.
    /// </summary>
    public async Task<CheckResult> FinishAsync()
    {
        _finished = true;
        var (result, after) = await _run.FinishAsync(Deadline);
        _output.WriteLine($"scenario {Name}: after: leader {after.Leader}, VIP on {after.VipHolders[0]}, every node back");
        _output.WriteLine($"scenario {Name}: longest write gap {result.LongestWriteGap?.ToString() ?? "none"}");
        _output.WriteLine(result.Summary);
        // Asynchronous replication may lose what the new primary had not received: at most
        // maximum_lag_on_failover bytes of WAL, well over 64 bytes per inserted row.
        var violations = result.Violations(Lab.Profile.SynchronousMode, (int)(Lab.Profile.MaximumLagOnFailover / 64));
        Assert.True(violations.Count == 0, $"{Name}:\n{string.Join("\n", violations)}\n{result.Summary}");
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        await _run.DisposeAsync();
        if (!_finished) await LabRun.RestoreAsync(Lab, Faults, Deadline);
    }
}
