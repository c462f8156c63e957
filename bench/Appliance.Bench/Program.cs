using Appliance.Bench;
using Appliance.Bench.Lab;
using Appliance.Bench.Proxy;
using Appliance.Bench.Vip;
using Appliance.Lab;

// appliance-bench: measurements recorded in bench/README.md.
using var stop = new CancellationTokenSource();
using var signals = new StopSignals(stop);
var command = args.FirstOrDefault();
var runs = args.SkipWhile(a => a != "--runs").Skip(1).Select(int.Parse).FirstOrDefault(5);
switch (command)
{
    case "failover":
        return await FailoverBench.RunAsync(runs, args.Contains("--sync"), Repo.Root(), Console.Out, stop.Token);
    case "switchover":
        return await SwitchoverBench.RunAsync(runs, Repo.Root(), Console.Out, stop.Token);
    case "vip":
        // Ours and the reference, measured the same way in one run.
        return await VipTakeoverBench.RunAsync(
            [new BalancerSpeaker { Name = await BalancerSpeaker.VersionAsync() }, new KeepalivedSpeaker { Name = await KeepalivedSpeaker.VersionAsync() }],
            runs, Console.Out, stop.Token);
    case "proxy":
        // pgbench direct vs HAProxy vs appliance-balancer (copy, splice, sockmap, auto), interleaved rounds.
        return await ProxyBench.RunAsync(Option("--rounds", 5), Option("--seconds", 7), Console.Out, stop.Token);
    case "lab":
        // Both stacks, every scenario and pgbench, one lab per configuration (root: network namespaces).
        IReadOnlyList<LabConfiguration> configurations;
        try { configurations = LabConfiguration.Parse(Value("--only")); }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }
        return await LabBench.RunAsync(Option("--rounds", 3), configurations, string.Join(' ', args), Repo.Root(), Console.Out, stop.Token);
    default:
        await Console.Error.WriteLineAsync("usage: appliance-bench failover [--sync] [--runs N] | switchover [--runs N] | vip [--runs N] (root: network namespaces) | proxy [--rounds N] [--seconds S] | " + LabBench.Usage);
        return 2;
}

int Option(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).FirstOrDefault(fallback);

string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
