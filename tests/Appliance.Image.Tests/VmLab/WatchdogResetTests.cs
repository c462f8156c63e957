using System.Diagnostics;
using Appliance.Lab;
using Appliance.Lab.NetLab;
using Appliance.Lab.Vm;
using Xunit.Abstractions;

namespace Appliance.Image.Tests.VmLab;

/// <summary>
/// The hardware watchdog for real: three database VMs with QEMU's i6300esb (mode "required", reset action).
/// The primary's agent is frozen (SIGSTOP) while it leads; it stops feeding the watchdog, which resets the
/// VM before its lease runs out; another member leads, and the reset VM boots and comes back as a replica.
/// </summary>
[Collection(VmLabCollection.Name)]
public sealed class WatchdogResetTests(ITestOutputHelper output)
{
    // ttl 30, safety_margin 5: the watchdog's timeout is 25 s, 5 s before the lease of a hung primary expires.
    static readonly LabProfile Profile = VmLabConfig.Profile with { Name = "vm-watchdog", Ttl = 30, LoopWait = 2, RetryTimeout = 10 };
    static readonly VmLabConfig.Watchdog Watchdog = new("required", SafetyMargin: 5);
    const int TimeoutSeconds = 25;
    // The firmware and boot loader after the reset, under emulation, before the console says anything.
    static readonly TimeSpan Margin = TimeSpan.FromSeconds(60);

    [VmLabFact]
    public async Task A_frozen_primary_agent_lets_the_watchdog_reset_its_VM_another_member_leads_and_the_VM_rejoins_as_a_replica()
    {
        var log = new TestOutputWriter(output);
        await using var lab = await Appliance.Lab.Vm.VmLab.StartAsync(LabLayout.Databases, [], Profile, Watchdog, log, CancellationToken.None);
        var clock = Stopwatch.StartNew();
        var healthy = await lab.WaitAsync("a leader and two streaming replicas", h => ClusterProgress.IsHealthy(h.Members), log, VmLabScenario.BootDeadline, CancellationToken.None);
        var primary = healthy.Leader!;
        output.WriteLine($"healthy after {clock.Elapsed.TotalSeconds:0} s; {primary} leads");
        // Synchronous mode: only the synchronous standby may take over, so there must be one before the freeze.
        await lab.WaitSyncStandbyAsync(primary, log, TimeSpan.FromMinutes(5), CancellationToken.None);

        var metrics = await lab.Probe.GetAsync($"{primary}.api", "/metrics");
        Assert.NotNull(metrics);
        Assert.Equal(1.0, Vm.Metrics.Value(metrics, "appliance_agent_watchdog_armed"));
        Assert.Equal(TimeoutSeconds, Vm.Metrics.Value(metrics, "appliance_agent_watchdog_timeout_seconds"));
        var vm = lab[primary];
        Assert.Equal(1, vm.Boots);

        var (agent, how) = await AgentFreezer.FreezeAsync(lab.Probe.ConnectionString($"{primary}.pg"));
        var frozen = Stopwatch.StartNew();
        output.WriteLine($"SIGSTOP sent to {primary}'s agent, PID {agent} (found {(how == "parent" ? "as the postmaster's parent" : "by name: the postmaster's parent is not the agent")})");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var consoleAtFreeze = vm.Console().Length;
        // The agent serves the REST API: a frozen agent stops answering (PostgreSQL, its child, runs on).
        await lab.WaitAsync($"{primary}'s agent stops answering", h => !h.Members.Single(m => m.Name == primary).Answers, log, TimeSpan.FromMinutes(1), CancellationToken.None);
        output.WriteLine($"{primary}'s agent frozen (REST API silent {frozen.Elapsed.TotalSeconds:0} s after the COPY)");

        // The reset: OVMF prints its boot manager's lines again, then the kernel its banner (Boots == 2).
        TimeSpan? firmware = null;
        while (vm.Boots < 2)
        {
            if (firmware is null && vm.Console()[Math.Min(consoleAtFreeze, vm.Console().Length)..].Contains("BdsDxe", StringComparison.Ordinal)) firmware = frozen.Elapsed;
            Assert.True(frozen.Elapsed < TimeSpan.FromSeconds(TimeoutSeconds) + Margin + TimeSpan.FromSeconds(60),
                $"{primary} did not reset within {TimeoutSeconds} s + margins; console:\n{vm.ConsoleTail()}");
            Assert.False(vm.HasExited, "QEMU exited instead of resetting the VM");
            await Task.Delay(500);
        }
        var kernel = frozen.Elapsed;
        // What the VM said between the freeze and its reset: a clean reboot would show systemd shutting down.
        var console = vm.Console();
        var reset = console.IndexOf("BdsDxe", Math.Min(consoleAtFreeze, console.Length), StringComparison.Ordinal);
        var between = console[Math.Min(consoleAtFreeze, console.Length)..(reset < 0 ? console.Length : reset)];
        output.WriteLine($"console between the freeze and the firmware's restart:\n{string.Join('\n', between.Split('\n').TakeLast(30))}");
        output.WriteLine($"reset: firmware again after {firmware?.TotalSeconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture) ?? "?"} s, kernel banner after {kernel.TotalSeconds:0} s (watchdog timeout {TimeoutSeconds} s)");
        Assert.True((firmware ?? kernel) < TimeSpan.FromSeconds(TimeoutSeconds) + Margin, $"reset seen after {(firmware ?? kernel).TotalSeconds:0} s");

        var led = await lab.WaitAsync("another member leads", h => h.Leader is { } l && l != primary, log, TimeSpan.FromMinutes(5), CancellationToken.None);
        output.WriteLine($"{led.Leader} leads {frozen.Elapsed.TotalSeconds:0} s after the freeze");

        await lab.WaitAsync($"{primary} is back as a streaming replica", h => h.Members.Single(m => m.Name == primary) is { State: "running", Role: "replica" }
            && ClusterProgress.IsHealthy(h.Members), log, TimeSpan.FromMinutes(20), CancellationToken.None);
        output.WriteLine($"{primary} rejoined as a replica {frozen.Elapsed.TotalSeconds:0} s after the freeze");
        Assert.Equal(2, vm.Boots);
    }
}
