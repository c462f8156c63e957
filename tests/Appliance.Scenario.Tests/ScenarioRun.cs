using System.Diagnostics;
using Appliance.Lab.Checker;
using Appliance.Lab.NetLab;
using Appliance.TestKit;
using Xunit.Abstractions;

namespace Appliance.Scenario.Tests;

/// <summary>
/// One scenario on the shared lab: waits until the lab is healthy, runs the checker's workload through
/// the VIP, lets the test break something and wait for the outcome, then waits until the lab is
/// healthy again (the broken node rejoined), stops the workload and judges the history. Every
/// measured time is printed as "scenario …" lines.
/// </summary>
public sealed class ScenarioRun : IAsyncDisposable
{
    /// <summary>Generous: a failover takes about a lease (10 s in the production profile, 30 s in the seed's).</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    readonly ITestOutputHelper _output;
    readonly Stopwatch _sinceFault = new();
    TimeSpan _faultAt;
    bool _finished;

    ScenarioRun(string name, NetLab lab, LabFaults faults, LabHealth before, Workload workload, ITestOutputHelper output)
    {
        Name = name;
        Lab = lab;
        Faults = faults;
        Before = before;
        Workload = workload;
        _output = output;
    }

    public string Name { get; }
    public NetLab Lab { get; }
    public LabFaults Faults { get; }
    /// <summary>The lab as it was before the fault.</summary>
    public LabHealth Before { get; }
    public string Leader => Before.Leader!;
    public string VipHolder => Before.VipHolders[0];
    public Workload Workload { get; }

    public static async Task<ScenarioRun> StartAsync(LabFixture f, string name, ITestOutputHelper output)
    {
        var before = await f.Lab.WaitHealthyAsync(TextWriter.Null, Deadline);
        var workload = await Workload.StartAsync(new WorkloadOptions { ConnectionString = f.Lab.Probe.ConnectionString("vip.primary") });
        var run = new ScenarioRun(name, f.Lab, f.Faults, before, workload, output);
        await run.WaitAckedAsync("writes flowing before the fault", TimeSpan.Zero);
        output.WriteLine($"scenario {name}: before: leader {before.Leader}, VIP on {before.VipHolders[0]}");
        return run;
    }

    /// <summary>Marks the instant of the fault: times below count from here.</summary>
    public void Fault(string what)
    {
        _faultAt = Workload.Elapsed;
        _sinceFault.Start();
        _output.WriteLine($"scenario {Name}: fault at {_faultAt.TotalSeconds:0.00} s: {what}");
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
        LabHealth? seen = null;
        try
        {
            await Wait.UntilAsync(what, async () => condition(seen = await Lab.Probe.ReadAsync()), Deadline, TimeSpan.FromMilliseconds(200));
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\nlast seen:\n  {string.Join("\n  ", seen?.Lines() ?? [])}\n{Lab.LogTails()}", e);
        }
        Measure(what);
        return seen!;
    }

    /// <summary>Waits until a write that began after the fault (or <paramref name="after"/>) is acknowledged.</summary>
    public async Task WaitAckedAsync(string what, TimeSpan? after = null)
    {
        var from = after ?? _faultAt;
        await Wait.UntilAsync(what, () => Workload.History.Operations.Count(o => o.IsAcked && o.Start > from) >= 20, Deadline);
        if (after is null) Measure(what);
    }

    /// <summary>
    /// Waits until the lab is healthy again (a leader, two streaming replicas, the VIP and its routes),
    /// lets writes flow a little, stops the workload and checks its history: nothing acknowledged lost
    /// (synchronous mode) or no more than the lag budget, the bank total, no split brain.
    /// </summary>
    public async Task<CheckResult> FinishAsync()
    {
        _finished = true;
        var after = await Lab.WaitHealthyAsync(TextWriter.Null, Deadline);
        Measure($"healthy again (leader {after.Leader}, VIP on {after.VipHolders[0]}; every node back)");
        await WaitAckedAsync("writes flowing after recovery", Workload.Elapsed);
        var history = await Workload.StopAsync();
        var final = await FinalStateReader.ReadAsync(Lab.Probe.ConnectionString("vip.primary"), history, TimeSpan.FromMinutes(1));
        var result = Checker.Check(history, final);
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
        await Workload.DisposeAsync();
        // A scenario that failed half-way must not leave the next one a broken lab: undo every fault.
        if (!_finished)
        {
            await Faults.HealAsync();
            foreach (var node in Lab.Nodes)
            {
                await Lab.Topology.SetLinkAsync(node.Name, up: true);
                foreach (var s in node.Services)
                {
                    s.Signal(Tmds.Linux.LibC.SIGCONT);
                    if (!s.IsRunning) s.Start();
                }
            }
        }
    }
}
