using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Appliance.Simulator.Models;

namespace Appliance.Simulator;

/// <summary>Many seeds on every core (each run on its own thread, repeatable on its own), with progress.</summary>
public static class SimRunner
{
    public sealed record Report(int Schedules, IReadOnlyList<SimResult> Violations);

    public static Report Run(int from, int count, LeaderRenewal renewal, Action<string>? progress = null, int stopAfterViolations = int.MaxValue)
    {
        var violations = new ConcurrentBag<SimResult>();
        int done = 0;
        var sw = Stopwatch.StartNew();
        var next = Stopwatch.StartNew();
        Parallel.For(from, from + count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, (seed, state) =>
        {
            var r = OnThreadOfItsOwn(() => Simulation.Run(seed, renewal));
            if (!r.Ok)
            {
                violations.Add(r);
                if (violations.Count >= stopAfterViolations) state.Stop();
            }
            var n = Interlocked.Increment(ref done);
            if (progress is not null && next.Elapsed > TimeSpan.FromSeconds(10))
            {
                lock (next)
                {
                    if (next.Elapsed > TimeSpan.FromSeconds(10))
                    {
                        next.Restart();
                        progress($"{n} of {count} schedules, {violations.Count} violations, {n / sw.Elapsed.TotalSeconds:0} per second");
                    }
                }
            }
        });
        return new Report(done, [.. violations.OrderBy(v => v.Seed)]);
    }

    /// <summary>
    /// Runs one schedule on a fresh thread. prometheus-net keeps a registry's before-collect callbacks in a
    /// ConcurrentBag, whose ThreadLocal slots live in the adding thread's table and are never freed while
    /// that thread lives: on reused threads every schedule's cluster stayed reachable (0.44 MB a schedule,
    /// measured; 24 GB and the OOM killer at 80,000 seeds). A thread that ends takes its table with it.
    /// </summary>
    static T OnThreadOfItsOwn<T>(Func<T> run)
    {
        T result = default!;
        ExceptionDispatchInfo? error = null;
        var thread = new Thread(() =>
        {
            try { result = run(); }
            catch (Exception e) { error = ExceptionDispatchInfo.Capture(e); }
        });
        thread.Start();
        thread.Join();
        error?.Throw();
        return result;
    }
}
