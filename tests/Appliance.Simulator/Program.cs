using System.Diagnostics;
using Appliance.Simulator;
using Appliance.Simulator.Models;

// appliance-simulate: `--seeds N` runs seeds 1..N (from `--from S`), `--seed S` replays one seed with its trace,
// `--unconditional-put` runs Patroni 3.0.2's leader renewal instead of ours.
int seeds = 100, from = 1;
int? one = null;
var renewal = LeaderRenewal.Conditional;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seeds": seeds = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--from": from = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--seed": one = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--unconditional-put": renewal = LeaderRenewal.UnconditionalPut; break;
        default:
            Console.Error.WriteLine($"appliance-simulate: unknown argument '{args[i]}' (use --seeds N [--from S], --seed S, --unconditional-put)");
            return 2;
    }
}
if (one is int s)
{
    var r = Simulation.Run(s, renewal);
    Console.WriteLine(r.Trace);
    Console.WriteLine(r.Describe());
    return r.Ok ? 0 : 1;
}
var sw = Stopwatch.StartNew();
var report = SimRunner.Run(from, seeds, renewal, progress: line => Console.WriteLine(line));
Console.WriteLine($"{report.Schedules} schedules in {sw.Elapsed.TotalSeconds:0} s: {report.Violations.Count} violations");
foreach (var v in report.Violations.Take(5)) Console.WriteLine(v.Describe() + $"  replay: just simulate --seed {v.Seed}{(renewal == LeaderRenewal.UnconditionalPut ? " --unconditional-put" : "")}");
return report.Violations.Count == 0 ? 0 : 1;
