using Appliance.Lab.NetLab;

namespace Appliance.Lab.Vm;

/// <summary><c>vm-lab</c>: five appliance VMs from the image, a primary crash and a balancer crash under the checker, then teardown.</summary>
public static class VmLabCommand
{
    public const string Help = """
        vm-lab [--stay] [--write-config DIR]
          Boots three database VMs and two balancer VMs from image/out/appliance.qcow2 (QEMU, software
          emulation, one virtual CPU each) on a private bridge inside a network namespace of its own, waits
          until a leader, two streaming replicas and one VIP holder answer on VIP:5000, then runs the checker's
          workload through the VIP while it crashes the primary's VM and then the VRRP master's VM, prints the
          write gaps and the checker's verdict, boots both again and waits until they rejoin.
          Everything (VMs, namespace, files) is removed at the end, on Ctrl-C, or by the next run if this one
          was killed. Takes 15-30 minutes on two cores. Needs root.
          --stay               after the scenario, keep the lab up until Ctrl-C
          --write-config DIR   only write each node's drop-in files (DIR/<node>/*.toml) and exit
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken ct)
    {
        var stay = args.Contains("--stay");
        if (args.Contains("--help") || args.Contains("-h"))
        {
            await output.WriteLineAsync(Help);
            return 0;
        }
        var at = Array.IndexOf(args, "--write-config");
        if (at >= 0)
        {
            if (at + 1 >= args.Length) { await Console.Error.WriteLineAsync(Help); return 2; }
            WriteConfigs(args[at + 1]);
            return 0;
        }
        if (args.Except(["--stay"]).FirstOrDefault() is { } unknown)
        {
            await Console.Error.WriteLineAsync($"unknown option '{unknown}'\n{Help}");
            return 2;
        }

        try
        {
            return await RunScenarioAsync(stay, output, ct);
        }
        // Ctrl-C ends whatever was waiting, with whatever exception that wait ends in (a cancelled connect is an NpgsqlException).
        catch (Exception) when (ct.IsCancellationRequested)
        {
            await output.WriteLineAsync("stopped: the VMs, the namespace and their files are removed");
            return stay ? 0 : 130;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }
    }

    static async Task<int> RunScenarioAsync(bool stay, TextWriter output, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        await output.WriteLineAsync($"booting 3 database VMs and 2 balancer VMs (profile: ttl {VmLabConfig.Profile.Ttl} s, loop_wait {VmLabConfig.Profile.LoopWait} s, " +
            $"VRRPv{VmLabConfig.Profile.VrrpVersion} every {VmLabConfig.Profile.AdvertInterval} s, synchronous mode) ...");
        await using var lab = await VmLab.StartAsync(LabLayout.Databases, LabLayout.Balancers, VmLabConfig.Profile, new VmLabConfig.Watchdog(), output, ct);
        foreach (var line in lab.Directions()) await output.WriteLineAsync(line);
        var result = await VmLabScenario.RunAsync(lab, output, ct);
        await output.WriteLineAsync();
        foreach (var line in result.Lines()) await output.WriteLineAsync(line);
        await output.WriteLineAsync($"total {(DateTime.UtcNow - started).TotalMinutes:0.0} min");
        if (stay)
        {
            await output.WriteLineAsync("\nthe lab stays up until Ctrl-C:");
            foreach (var line in lab.Directions()) await output.WriteLineAsync(line);
            await Task.Delay(Timeout.Infinite, ct);
        }
        return result.Violations.Count == 0 ? 0 : 1;
    }

    /// <summary>Each node's drop-in files as the VMs get them, to read or to copy onto a real appliance's configuration disk.</summary>
    static void WriteConfigs(string dir)
    {
        foreach (var node in LabLayout.Databases.Concat(LabLayout.Balancers))
        {
            var nodeDir = Path.Combine(dir, node.Name);
            Directory.CreateDirectory(nodeDir);
            foreach (var (name, text) in VmLabConfig.For(node, VmLabConfig.Profile, new VmLabConfig.Watchdog(), LabLayout.Databases))
                File.WriteAllText(Path.Combine(nodeDir, name), text);
        }
    }
}
