using Appliance.Lab;
using System.Diagnostics;
using System.Globalization;
using Appliance.Bench.Vip;
using Appliance.Lab.Netns;

namespace Appliance.Bench.Proxy;

/// <summary>
/// Proxy throughput: pgbench against one PostgreSQL 15, direct and through each proxy (HAProxy in TCP
/// mode, appliance-balancer on each data path: copy, splice, sockmap and auto), interleaved: every round
/// runs every workload against every target in turn (the order rotating by round), so drift on this
/// shared machine lands on all targets alike. Ratios are taken per round against that round's direct run, then the median over
/// rounds. Each proxy's CPU (utime+stime over its runs) and resident memory come from /proc.
/// Everything runs on 127.0.0.1; every process started is stopped by its PID and the temp folder removed.
/// </summary>
public static class ProxyBench
{
    public const int Scale = 10;

    public static readonly Workload[] Workloads =
    [
        new("`-S`, 1 client", true, 1, false),
        new("`-S`, 8 clients", true, 8, false),
        new("`-S`, 32 clients", true, 32, false),
        new("TPC-B, 1 client", false, 1, false),
        new("TPC-B, 8 clients", false, 8, false),
        new("TPC-B, 32 clients", false, 32, false),
        // A new connection per transaction: what a proxy's accept, connect and startup cost.
        new("`-S -C`, 8 clients", true, 8, true),
    ];

    sealed record Run(int Round, PgbenchResult? Result, double? CpuSeconds);

    public static async Task<int> RunAsync(int rounds, int seconds, TextWriter o, CancellationToken ct)
    {
        var root = Path.Combine(Path.GetTempPath(), $"appliance-bench-proxy-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(root);
        // PostgreSQL runs as the postgres user: it must be able to walk into the folder.
        File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        var targets = new List<IBenchTarget>();
        BenchPostgres? pg = null;
        try
        {
            await o.WriteLineAsync($"proxy benchmark: {rounds} round(s) × {Workloads.Length} workloads × up to 6 targets × {seconds} s; {await MachineAsync()}");
            await o.WriteLineAsync($"  work folder {root}; load average {Load()}");
            var ports = LoopbackPorts.Free(11);
            pg = await BenchPostgres.StartAsync(root, ports[0], ct);
            await o.WriteLineAsync($"  {await VersionAsync("/usr/lib/postgresql/15/bin/postgres", "--version")} on 127.0.0.1:{pg.Port}; pgbench -i -s {Scale}");
            await Pgbench.InitAsync(pg.Port, Scale, ct);

            targets.Add(new DirectTarget(pg.Port));
            var skipped = new List<(string Name, string Why)>();
            async Task AddAsync(string name, Task<(ProxyTarget? Target, string Why)> starting)
            {
                var (t, why) = await starting;
                if (t is not null)
                {
                    targets.Add(t);
                    await o.WriteLineAsync($"  {name}: serving on 127.0.0.1:{t.Port}, pid {t.Pid}");
                }
                else
                {
                    skipped.Add((name, why));
                    await o.WriteLineAsync($"  {name}: SKIPPED: {why}");
                }
            }
            await o.WriteLineAsync($"  {await VersionAsync("/usr/sbin/haproxy", "-v")}");
            await AddAsync("haproxy", BenchProxies.StartHaproxyAsync(Path.Combine(root, "haproxy"), pg.Port, ports[1], ct));
            string balancerVersion;
            try { balancerVersion = await BalancerSpeaker.VersionAsync(); }
            catch (Exception e) when (e is FileNotFoundException or System.ComponentModel.Win32Exception) { balancerVersion = $"appliance-balancer: {e.Message}"; }
            await o.WriteLineAsync($"  {balancerVersion}");
            await AddAsync("ours-copy", BenchProxies.StartBalancerAsync(Path.Combine(root, "ours-copy"), pg.Port, ports[2], ports[3], "copy", ct));
            await AddAsync("ours-splice", BenchProxies.StartBalancerAsync(Path.Combine(root, "ours-splice"), pg.Port, ports[4], ports[5], "splice", ct));
            await AddAsync("ours-sockmap", BenchProxies.StartBalancerAsync(Path.Combine(root, "ours-sockmap"), pg.Port, ports[6], ports[7], "sockmap", ct));
            await AddAsync("ours-auto", BenchProxies.StartBalancerAsync(Path.Combine(root, "ours-auto"), pg.Port, ports[8], ports[9], "auto", ct));

            var idle = targets.Where(t => t.Pid is not null).ToDictionary(t => t.Name, t => ProcUsage.Read(t.Pid!.Value));
            var peakRss = new Dictionary<string, long>();
            var runs = Workloads.ToDictionary(w => w, _ => targets.ToDictionary(t => t.Name, _ => new List<Run>()));
            var started = Stopwatch.StartNew();
            for (var round = 1; round <= rounds; round++)
            {
                // Each round starts with the next target: whatever follows a workload (autovacuum and
                // checkpoints after TPC-B's writes) does not always land on the same one.
                var order = targets.Skip((round - 1) % targets.Count).Concat(targets.Take((round - 1) % targets.Count)).ToList();
                foreach (var w in Workloads)
                foreach (var t in order)
                {
                    // Ctrl-C stops between runs (a run's failure is recorded, not thrown).
                    ct.ThrowIfCancellationRequested();
                    var before = t.Pid is int pid ? ProcUsage.Read(pid) : null;
                    var (result, failure) = await Pgbench.RunAsync(t.Port, w, seconds, Path.Combine(root, "pgbench-log"), ct);
                    var after = t.Pid is int pid2 ? ProcUsage.Read(pid2) : null;
                    double? cpu = before is { } b && after is { } a ? a.CpuSeconds - b.CpuSeconds : null;
                    if (after is { } x) peakRss[t.Name] = Math.Max(peakRss.GetValueOrDefault(t.Name), x.RssKb);
                    runs[w][t.Name].Add(new Run(round, result, cpu));
                    await o.WriteLineAsync(result is { } r
                        ? Inv($"  round {round}/{rounds} {w.Name} {t.Name}: {r.Tps:0} tps, avg {r.AverageLatencyMs:0.000} ms, p99 {Ms(r.P99LatencyMs)}{(r.ConnectMs is { } cm ? Inv($", connect {cm:0.000} ms") : "")}{(cpu is { } c ? Inv($", proxy CPU {c / r.Transactions * 1e6:0.0} µs/tx") : "")}{(r.Failed > 0 ? $", {r.Failed} failed" : "")}")
                        : $"  round {round}/{rounds} {w.Name} {t.Name}: FAILED: {failure}{(t.Pid is null && t is ProxyTarget ? $"\n{t.LogTail()}" : "")}");
                }
                // The machine is shared: its load says how much the round's numbers can be trusted.
                await o.WriteLineAsync(Inv($"  round {round} done after {started.Elapsed.TotalMinutes:0.0} min; load average {Load()}"));
            }
            var end = targets.Where(t => t.Pid is not null).ToDictionary(t => t.Name, t => ProcUsage.Read(t.Pid!.Value));

            await o.WriteLineAsync();
            await o.WriteLineAsync(Inv($"Medians over {rounds} round(s) of {seconds} s; ratios are the median of each round's ratio to that round's direct run; p99 from pgbench's per-transaction log (`-S` sampled at {Pgbench.SamplingRate:0%}, the rest in full); proxy CPU = the proxy process's utime+stime over the run / transactions."));
            await o.WriteLineAsync();
            await o.WriteLineAsync("| workload | target | TPS | TPS ratio | avg latency | ratio | p99 latency | ratio | proxy CPU per tx | runs |");
            await o.WriteLineAsync("|---|---|---|---|---|---|---|---|---|---|");
            foreach (var w in Workloads)
            {
                var direct = runs[w]["direct"].ToDictionary(r => r.Round);
                foreach (var t in targets)
                {
                    var ok = runs[w][t.Name].Where(r => r.Result is not null).ToList();
                    if (ok.Count == 0)
                    {
                        await o.WriteLineAsync($"| {w.Name} | {t.Name} | - | - | - | - | - | - | - | 0 of {rounds} |");
                        continue;
                    }
                    double? Ratio(Func<PgbenchResult, double?> f) => Median(ok
                        .Where(r => direct.TryGetValue(r.Round, out var d) && d.Result is not null && f(d.Result) is > 0 && f(r.Result!) is not null)
                        .Select(r => f(r.Result!)!.Value / f(direct[r.Round].Result!)!.Value));
                    var cpu = Median(ok.Where(r => r.CpuSeconds is not null && r.Result!.Transactions > 0).Select(r => r.CpuSeconds!.Value / r.Result!.Transactions * 1e6));
                    await o.WriteLineAsync(Inv($"| {w.Name} | {t.Name} | {Median(ok.Select(r => r.Result!.Tps)):0} | {R(Ratio(r => r.Tps))} | {Median(ok.Select(r => r.Result!.AverageLatencyMs)):0.000} ms | {R(Ratio(r => r.AverageLatencyMs))} | {Ms(Median(ok.Where(r => r.Result!.P99LatencyMs is not null).Select(r => r.Result!.P99LatencyMs!.Value)))} | {R(Ratio(r => r.P99LatencyMs))} | {(cpu is { } c ? Inv($"{c:0.0} µs") : "-")} | {ok.Count} of {rounds} |"));
                }
            }
            var churn = Workloads.Where(w => w.Reconnect).ToList();
            if (churn.Count > 0)
            {
                await o.WriteLineAsync();
                await o.WriteLineAsync("| workload | target | pgbench's average connection time | ratio |");
                await o.WriteLineAsync("|---|---|---|---|");
                foreach (var w in churn)
                {
                    var direct = runs[w]["direct"].ToDictionary(r => r.Round);
                    foreach (var t in targets)
                    {
                        var ok = runs[w][t.Name].Where(r => r.Result?.ConnectMs is not null).ToList();
                        var ratio = Median(ok.Where(r => direct.TryGetValue(r.Round, out var d) && d.Result?.ConnectMs is > 0)
                            .Select(r => r.Result!.ConnectMs!.Value / direct[r.Round].Result!.ConnectMs!.Value));
                        await o.WriteLineAsync($"| {w.Name} | {t.Name} | {Ms(Median(ok.Select(r => r.Result!.ConnectMs!.Value)))} | {R(ratio)} |");
                    }
                }
            }
            await o.WriteLineAsync();
            await o.WriteLineAsync("| proxy | VmRSS idle (after start) | max VmRSS after a run | VmHWM at the end | CPU seconds over all runs |");
            await o.WriteLineAsync("|---|---|---|---|---|");
            foreach (var t in targets.Where(t => t.Pid is not null || idle.ContainsKey(t.Name)))
            {
                var i = idle.GetValueOrDefault(t.Name);
                var e = end.GetValueOrDefault(t.Name);
                var cpuTotal = runs.Values.SelectMany(byTarget => byTarget[t.Name]).Sum(r => r.CpuSeconds ?? 0);
                await o.WriteLineAsync(Inv($"| {t.Name} | {MiB(i?.RssKb)} | {MiB(peakRss.TryGetValue(t.Name, out var p) ? p : null)} | {MiB(e?.HwmKb)} | {cpuTotal:0.0} s |"));
            }
            foreach (var (name, why) in skipped)
                await o.WriteLineAsync($"\n{name}: not measured: {why.Split('\n')[0]}");
            return 0;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await o.WriteLineAsync("stopped: cleaning up");
            return 130;
        }
        finally
        {
            foreach (var t in Enumerable.Reverse(targets)) await t.DisposeAsync();
            if (pg is not null) await pg.DisposeAsync();
            try { Directory.Delete(root, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { await o.WriteLineAsync($"could not remove {root}: {e.Message}"); }
        }
    }

    static double? Median(IEnumerable<double> values) => Machine.Median(values);

    static string Load() => Machine.Load();

    static string R(double? ratio) => ratio is { } x ? Inv($"{x:0.00}") : "-";

    static string Ms(double? ms) => ms is { } x ? Inv($"{x:0.000} ms") : "-";

    static string MiB(long? kb) => kb is { } k ? Inv($"{k / 1024.0:0.0} MiB") : "-";

    static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    static async Task<string> VersionAsync(string binary, string flag)
    {
        try
        {
            var r = await Command.RunAsync(binary, [flag]);
            return (r.Output + r.Errors).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? binary;
        }
        catch (System.ComponentModel.Win32Exception) { return $"{binary}: not installed"; }
    }

    static Task<string> MachineAsync() => Machine.DescribeAsync();
}
