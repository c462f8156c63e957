using System.Diagnostics;
using Appliance.Lab.NetLab;
using Appliance.Lab.Netns;
using Tmds.Linux;

namespace Appliance.Lab;

/// <summary>
/// <c>lab up|down|status</c>: the lab as a command. <c>up</c> starts a harness process in its own
/// session (<c>lab serve</c>) that owns the lab and keeps it running after <c>up</c> returns, shows its
/// progress until the lab is healthy, and returns; <c>down</c> asks that harness to take everything
/// down (SIGTERM by the PID in <c>.lab/lab.json</c>) and sweeps what a crashed harness left.
/// </summary>
public static class LabCommand
{
    const string Usage = """
        usage: appliance-lab lab up [--stack appliance|reference] [--profile production|seed|patroni-fastest]
               appliance-lab lab status
               appliance-lab lab down
        """;

    public static async Task<int> RunAsync(string repoRoot, string[] args, TextWriter o, CancellationToken stop)
    {
        try
        {
            return args switch
            {
                ["up", .. var rest] => await UpAsync(repoRoot, Options.Parse(rest), o, stop),
                ["serve", .. var rest] => await ServeAsync(repoRoot, Options.Parse(rest), o, stop),
                ["status"] => await StatusAsync(repoRoot, o, stop),
                ["down"] => await DownAsync(repoRoot, o),
                _ => Fail(o, Usage),
            };
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException)
        {
            return Fail(o, e.Message);
        }
    }

    static int Fail(TextWriter o, string message)
    {
        o.WriteLine(message);
        return 2;
    }

    /// <summary>The options of <c>lab up</c> and <c>lab serve</c>.</summary>
    public sealed record Options(string Stack, string Profile)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options("appliance", LabProfile.Production.Name);
            for (var i = 0; i < args.Length; i++)
            {
                var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
                o = args[i] switch
                {
                    "--stack" => o with { Stack = ILabStack.Named(value).Name },
                    "--profile" => o with { Profile = LabProfile.Named(value).Name },
                    _ => throw new ArgumentException($"unknown option '{args[i]}'\n{Usage}"),
                };
                i++;
            }
            return o;
        }

        public string[] ToArgs() => ["--stack", Stack, "--profile", Profile];
    }

    static async Task<int> UpAsync(string repoRoot, Options options, TextWriter o, CancellationToken stop)
    {
        var path = LabDescription.PathIn(repoRoot);
        if (AlreadyRunning(repoRoot) is { } running) return Fail(o, running);
        var log = Path.Combine(repoRoot, ".lab", "lab.log");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        File.Delete(path);
        File.WriteAllText(log, "");
        var (file, prefix) = Self();
        // setsid: the harness leaves this terminal's session, so closing the terminal does not take the lab down.
        var harness = ChildProcess.Start("lab-harness", "setsid", [file, .. prefix, "lab", "serve", .. options.ToArgs()], log);
        await o.WriteLineAsync($"Starting the lab ({options.Stack} stack, {options.Profile} profile); harness PID {harness.Pid}, log {log}");
        long shown = 0;
        while (true)
        {
            shown = await CopyNewAsync(log, shown, o);
            if (File.Exists(path) && LabDescription.Read(path) is { State: "up" } d && d.HarnessPid == harness.Pid) break;
            if (harness.HasExited)
            {
                await CopyNewAsync(log, shown, o);
                return Fail(o, $"the lab did not come up (harness exited {harness.ExitCode}); everything it started is gone");
            }
            if (stop.IsCancellationRequested)
            {
                await o.WriteLineAsync("interrupted: taking the lab down");
                await harness.StopAsync(TimeSpan.FromSeconds(90));
                return 1;
            }
            await Task.Delay(250, CancellationToken.None);
        }
        await o.WriteLineAsync();
        await PrintStatusAsync(LabDescription.Read(path), o, stop);
        await o.WriteLineAsync($"\nThe lab runs until `npx --yes rust-just lab down`. Description: {path}");
        return 0;
    }

    static async Task<long> CopyNewAsync(string log, long from, TextWriter o)
    {
        await using var f = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (f.Length <= from) return from;
        f.Seek(from, SeekOrigin.Begin);
        using var r = new StreamReader(f);
        await o.WriteAsync(await r.ReadToEndAsync());
        return f.Length;
    }

    /// <summary>This program's executable and the arguments before ours (the dll, when run by <c>dotnet</c>).</summary>
    static (string File, string[] Prefix) Self()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? (process, [Path.Combine(AppContext.BaseDirectory, "appliance-lab.dll")])
            : (process, []);
    }

    /// <summary>True while <paramref name="pid"/> is a lab harness (a reused PID of another program is not).</summary>
    static bool HarnessAlive(int pid)
    {
        try { return pid > 0 && File.ReadAllText($"/proc/{pid}/cmdline").Contains("appliance-lab", StringComparison.Ordinal); }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>The harness: brings the lab up, keeps <c>.lab/lab.json</c> current, takes it down on SIGTERM or Ctrl-C.</summary>
    static async Task<int> ServeAsync(string repoRoot, Options options, TextWriter o, CancellationToken stop)
    {
        try
        {
            await using var lab = await NetLab.NetLab.StartAsync(ILabStack.Named(options.Stack), LabProfile.Named(options.Profile),
                LabBinaries.Locate(repoRoot), o, TimeSpan.FromMinutes(5), stop);
            await o.WriteLineAsync("  the lab is healthy");
            await LabDescription.HostAsync(LabDescription.PathIn(repoRoot), lab, stop);
            await o.WriteLineAsync("taking the lab down: stopping every process, removing the namespaces and files");
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 1;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or FileNotFoundException)
        {
            await o.WriteLineAsync($"the lab failed: {e.Message}");
            return 1;
        }
    }

    /// <summary>An error when a lab already runs from this checkout (two labs would fight over lab.json).</summary>
    public static string? AlreadyRunning(string repoRoot)
    {
        var path = LabDescription.PathIn(repoRoot);
        return File.Exists(path) && HarnessAlive(LabDescription.Read(path).HarnessPid)
            ? $"a lab is already running (see {path}): `npx --yes rust-just lab down` first" : null;
    }

    static async Task<int> StatusAsync(string repoRoot, TextWriter o, CancellationToken stop)
    {
        var d = LabDescription.Read(LabDescription.PathIn(repoRoot));
        if (!HarnessAlive(d.HarnessPid)) return Fail(o, $"the lab's harness (PID {d.HarnessPid}) is gone: run `npx --yes rust-just lab down` to clean up");
        await PrintStatusAsync(d, o, stop);
        return 0;
    }

    /// <summary>The cluster, the VRRP state and where the VIP's listeners lead, plus how to reach it all from here.</summary>
    public static async Task PrintStatusAsync(LabDescription d, TextWriter o, CancellationToken ct)
    {
        using var probe = new LabProbe(d.HostPorts, d.Namespaces, d.SuperuserPassword);
        var health = await probe.ReadAsync(ct);
        await o.WriteLineAsync($"Lab {d.Prefix}: {d.Stack} stack, {d.Profile} profile, {(health.IsHealthy ? "healthy" : "NOT healthy")}");
        foreach (var line in health.Lines()) await o.WriteLineAsync($"  {line}");
        var p = d.HostPorts;
        var client = d.Namespaces[LabLayout.Client.Name];
        var statusPage = d.Stack == "appliance" ? "/stats" : "/";
        await o.WriteLineAsync($"""

            From this machine (loopback ports that lead into the lab; password {d.SuperuserPassword}):
              psql "postgresql://postgres@127.0.0.1:{p["vip.primary"]}/postgres"    # through the VIP, read-write
              psql "postgresql://postgres@127.0.0.1:{p["vip.replica"]}/postgres"    # through the VIP, read-only
              curl -s http://127.0.0.1:{p["db1.api"]}/cluster                       # db1's REST API (db2: {p["db2.api"]}, db3: {p["db3.api"]})
              curl -s http://127.0.0.1:{p["lb1.status"]}{statusPage}                         # lb1's proxy status page (lb2: {p["lb2.status"]})
            From inside the lab's client namespace:
              ip netns exec {client} artifacts/bin/appliancectl --dcs-url {LabLayout.EtcdEndpoints[0]} --scope lab list
              ip netns exec {client} psql -h {LabLayout.Vip} -p {LabLayout.PrimaryPort} -U postgres
            """);
    }

    static async Task<int> DownAsync(string repoRoot, TextWriter o)
    {
        var path = LabDescription.PathIn(repoRoot);
        if (File.Exists(path))
        {
            var d = LabDescription.Read(path);
            if (HarnessAlive(d.HarnessPid))
            {
                await o.WriteLineAsync($"Taking the lab {d.Prefix} down (SIGTERM to its harness, PID {d.HarnessPid})...");
                _ = LibC.kill(d.HarnessPid, LibC.SIGTERM);
                var sw = Stopwatch.StartNew();
                while (HarnessAlive(d.HarnessPid) && sw.Elapsed < TimeSpan.FromSeconds(120)) await Task.Delay(200);
                if (HarnessAlive(d.HarnessPid))
                {
                    await o.WriteLineAsync("the harness did not stop within 120 s: killing it and sweeping its namespaces");
                    _ = LibC.kill(d.HarnessPid, LibC.SIGKILL);
                    while (HarnessAlive(d.HarnessPid)) await Task.Delay(100);
                }
            }
            File.Delete(path);
        }
        File.Delete(Path.Combine(repoRoot, ".lab", "lab.log"));
        // Whatever a crashed harness left (its PID is dead, so its namespaces and folder count as stale).
        var swept = await NetnsSweeper.SweepAsync();
        foreach (var s in swept) await o.WriteLineAsync($"  removed leftover {s}");
        await o.WriteLineAsync("No lab is running.");
        return 0;
    }
}
