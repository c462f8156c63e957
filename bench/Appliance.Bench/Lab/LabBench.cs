using System.Diagnostics;
using System.Globalization;
using System.Text;
using Appliance.Lab.NetLab;
using Appliance.Lab.Netns;
using static Appliance.Bench.Machine;

namespace Appliance.Bench.Lab;

/// <summary>
/// Both stacks side by side on the same lab, in one run: for each <see cref="LabConfiguration"/> a lab
/// of its own comes up, every <see cref="LabScenario"/> and a <see cref="LabThroughput"/> round run in
/// turn, round after round (so drift on this shared machine lands on every measure alike), then the
/// services' memory is read and the lab goes down. Every round has a deadline; one that passes it is
/// reported as timed out and the lab restored, never a hung run. Prints a line per round, then a
/// Markdown table, also written to bench/results/lab-&lt;date&gt;.md.
/// </summary>
public static class LabBench
{
    public const string Usage = "lab [--rounds N] [--only " + "appliance/production,appliance/seed,reference/seed,reference/patroni-fastest] " +
        "(root: network namespaces; --rounds 3 over all four takes about 30 minutes on 2 cores)";

    static readonly TimeSpan StartDeadline = TimeSpan.FromMinutes(5);
    /// <summary>Generous: the seed's lease is 30 s, and a crashed primary's node rejoins after it.</summary>
    static readonly TimeSpan RoundDeadline = TimeSpan.FromMinutes(4);
    static readonly TimeSpan RestoreDeadline = TimeSpan.FromMinutes(4);

    static readonly Measure ManagerMemory = Measure.MiB("resident memory: HA manager (agent; patroni), per node");
    static readonly Measure EtcdMemory = Measure.MiB("resident memory: etcd, per node");
    static readonly Measure BalancerMemory = Measure.MiB("resident memory: balancer node (balancer; haproxy + keepalived)");

    public static async Task<int> RunAsync(int rounds, IReadOnlyList<LabConfiguration> configurations, string command, string repoRoot, TextWriter o, CancellationToken ct)
    {
        var binaries = LabBinaries.Locate(repoRoot);
        var date = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        var machine = await DescribeAsync();
        var loadBefore = Load();
        await o.WriteLineAsync($"lab benchmark: {rounds} round(s) of {string.Join(", ", LabScenario.All.Select(s => s.Name))} and pgbench, on {string.Join(", ", configurations.Select(c => c.Name))}");
        await o.WriteLineAsync($"  {machine}; load average {loadBefore}; agent {binaries.Agent}, balancer {binaries.Balancer}");
        var results = new LabResults(configurations.Select(c => c.Name).ToList());
        try
        {
            foreach (var c in configurations) await RunConfigurationAsync(c, rounds, binaries, results, o, clock, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await o.WriteLineAsync($"stopped: every lab is down; what was measured so far:\n\n{results.Markdown()}");
            return 130;
        }
        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"# Lab benchmark, {date:yyyy-MM-dd HH:mm}")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run --project bench/Appliance.Bench -c Release -- {command}` ({clock.Elapsed.TotalMinutes:0} min).")
            .AppendLine(CultureInfo.InvariantCulture, $"Machine: {machine}; load average {loadBefore} at the start, {Load()} at the end.")
            .AppendLine(CultureInfo.InvariantCulture, $"Commit {await CommitAsync(repoRoot)}; binaries {binaries.Agent}, {binaries.Balancer}.")
            .AppendLine()
            .AppendLine(Explanation(rounds))
            .AppendLine()
            .Append(results.Markdown())
            .ToString();
        await o.WriteLineAsync();
        await o.WriteAsync(report);
        var path = ResultPath(repoRoot, date);
        await File.WriteAllTextAsync(path, report, CancellationToken.None);
        await o.WriteLineAsync($"\nwritten to {Path.GetRelativePath(repoRoot, path)}");
        return 0;
    }

    static async Task RunConfigurationAsync(LabConfiguration c, int rounds, LabBinaries binaries, LabResults results, TextWriter o, Stopwatch clock, CancellationToken ct)
    {
        async Task Say(string line) => await o.WriteLineAsync(Inv($"  [{clock.Elapsed.TotalMinutes,5:0.0} min] {c.Name} {line}"));
        void MissAll(string why)
        {
            foreach (var m in LabScenario.All.SelectMany(s => s.Reports.Select(r => r.Measure)).Concat(LabThroughput.Measures))
                for (var i = 0; i < rounds; i++) results.Miss(c.Name, m, why);
            foreach (var m in new[] { ManagerMemory, EtcdMemory, BalancerMemory }) results.Miss(c.Name, m, why);
        }

        await Say("starting a lab");
        NetLab lab;
        try
        {
            lab = await NetLab.StartAsync(ILabStack.Named(c.Stack), c.Profile, binaries, TextWriter.Null, StartDeadline, ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            await Say($"the lab did not start: {FirstLine(e)}");
            MissAll("lab did not start");
            return;
        }
        await using (lab)
        {
            var faults = new LabFaults(lab);
            await Say("healthy");
            var alive = true;
            var pgbenchReady = false;
            for (var round = 1; round <= rounds; round++)
            {
                foreach (var scenario in LabScenario.All)
                {
                    if (!alive)
                    {
                        foreach (var (m, _) in scenario.Reports) results.Miss(c.Name, m, "not run");
                        continue;
                    }
                    alive = await BoundedAsync($"round {round}/{rounds} {scenario.Name}", Say, lab, faults, scenario.Reports.Select(r => r.Measure), results, c.Name, async (token, step) =>
                    {
                        var outcome = await FaultRound.RunAsync(lab, faults, scenario, step, token);
                        foreach (var (m, value) in scenario.Reports)
                        {
                            if (value(outcome) is double v) results.Add(c.Name, m, v);
                            else results.Miss(c.Name, m, "no value");
                        }
                        return outcome.ToString();
                    }, ct);
                }
                if (!alive)
                {
                    foreach (var m in LabThroughput.Measures) results.Miss(c.Name, m, "not run");
                    continue;
                }
                var r = round;
                alive = await BoundedAsync($"round {round}/{rounds} throughput", Say, lab, faults, LabThroughput.Measures, results, c.Name, async (token, step) =>
                {
                    step("waiting for a healthy lab");
                    var health = await lab.WaitHealthyAsync(TextWriter.Null, RoundDeadline, token);
                    if (!pgbenchReady)
                    {
                        step($"pgbench -i -s {LabThroughput.Scale} through the VIP");
                        await LabThroughput.InitAsync(lab, token);
                        pgbenchReady = true;
                    }
                    step("pgbench");
                    var (values, line) = await LabThroughput.RunAsync(lab, health.Leader!, r, token);
                    foreach (var (m, v) in values)
                    {
                        if (v is double x) results.Add(c.Name, m, x);
                        else results.Miss(c.Name, m, "failed");
                    }
                    return $"leader {health.Leader}: {line}";
                }, ct);
            }
            if (alive) await MeasureMemoryAsync(lab, c, results, Say);
            else foreach (var m in new[] { ManagerMemory, EtcdMemory, BalancerMemory }) results.Miss(c.Name, m, "not run");
            await Say("taking the lab down");
        }
    }

    /// <summary>
    /// Runs one round under <see cref="RoundDeadline"/>. A round that times out or fails misses every
    /// one of its <paramref name="measures"/> and the lab is restored; false when even that fails.
    /// </summary>
    static async Task<bool> BoundedAsync(string name, Func<string, Task> say, NetLab lab, LabFaults faults, IEnumerable<Measure> measures,
        LabResults results, string configuration, Func<CancellationToken, Action<string>, Task<string>> round, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(RoundDeadline);
        var step = "starting";
        var started = Stopwatch.StartNew();
        string why;
        try
        {
            var line = await round(deadline.Token, s => step = s);
            await say(Inv($"{name}: {line} [{started.Elapsed.TotalSeconds:0} s]"));
            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            why = "timed out";
            await say($"{name}: TIMED OUT after {RoundDeadline.TotalMinutes:0} min while {step}");
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            why = "failed";
            await say($"{name}: FAILED while {step}: {FirstLine(e)}");
        }
        foreach (var m in measures) results.Miss(configuration, m, why);
        try
        {
            await LabRun.RestoreAsync(lab, faults, RestoreDeadline, ct);
            await say("restored: the lab is healthy again");
            return true;
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            await say($"the lab did not recover ({FirstLine(e)}): its remaining rounds are not run");
            return false;
        }
    }

    static async Task MeasureMemoryAsync(NetLab lab, LabConfiguration c, LabResults results, Func<string, Task> say)
    {
        var rows = ServiceMemory.Read(lab);
        foreach (var (_, _, kb) in rows.Where(r => r.Service == lab.Stack.DatabaseManager)) results.Add(c.Name, ManagerMemory, kb / 1024.0);
        foreach (var (_, _, kb) in rows.Where(r => r.Service == "etcd")) results.Add(c.Name, EtcdMemory, kb / 1024.0);
        foreach (var node in rows.Where(r => LabLayout.IsBalancer(r.Node)).GroupBy(r => r.Node))
            results.Add(c.Name, BalancerMemory, node.Where(r => lab.Stack.BalancerServices.Contains(r.Service)).Sum(r => r.RssKb) / 1024.0);
        // The reference's balancer node runs two programs: each on its own row too.
        if (lab.Stack.BalancerServices.Count > 1)
            foreach (var s in lab.Stack.BalancerServices)
            foreach (var (_, _, kb) in rows.Where(r => r.Service == s))
                results.Add(c.Name, Measure.MiB($"resident memory: {s}, per node"), kb / 1024.0);
        await say("resident memory after the rounds: " + string.Join(", ", rows.Select(r => Inv($"{r.Node} {r.Service} {r.RssKb / 1024.0:0.0} MiB"))));
    }

    static string Explanation(int rounds) => Inv($"""
        Each configuration ran on a lab of its own (three database nodes with etcd, two balancer nodes
        sharing the VIP, a client; network namespaces on one bridge). Fault times are what a client of
        the VIP's read-write listener saw: the checker's workload (4 clients, about 200 writes/s) ran
        through it, and a gap is the longest time between two acknowledged writes around the fault. Lost:
        acknowledged inserts missing once the lab was healthy again. Failed client operations: writes
        after the fault that were not acknowledged. Between rounds the broken node booted and rejoined.
        pgbench ran inside the client's namespace (scale {LabThroughput.Scale}, 8 clients, {LabThroughput.Seconds} s per run),
        against the VIP and directly against the leader, so the ratio is the proxy hop alone. Cells: the
        median over {rounds} round(s), the range in parentheses; memory (VmRSS, with same-program children)
        is over nodes, read after the last round.
        """);

    static string ResultPath(string repoRoot, DateTimeOffset date)
    {
        var dir = Path.Combine(repoRoot, "bench", "results");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"lab-{date:yyyy-MM-dd}.md");
        for (var n = 2; File.Exists(path); n++) path = Path.Combine(dir, $"lab-{date:yyyy-MM-dd}-{n}.md");
        return path;
    }

    static async Task<string> CommitAsync(string repoRoot)
    {
        var r = await Command.RunAsync("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"]);
        return r.Ok ? r.Output.Trim() : "unknown";
    }

    /// <summary>The message on one line, its log tails left out (a timeout's message carries every service's).</summary>
    static string FirstLine(Exception e) => string.Join(" / ", e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .TakeWhile(l => !l.StartsWith("---", StringComparison.Ordinal)).Take(6));
}
