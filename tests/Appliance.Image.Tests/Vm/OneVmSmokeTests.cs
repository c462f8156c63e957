using Appliance.Lab;
using Appliance.Lab.Vm;
using Xunit.Abstractions;

namespace Appliance.Image.Tests.Vm;

/// <summary>
/// The image booted for real (UEFI, systemd-boot, the unified kernel image) in QEMU under software emulation:
/// it reads its drop-in, starts its role and serves /metrics. QEMU's user-mode network with restrict=on: the
/// guest reaches nothing; the test reaches its port 8008 through a forward on 127.0.0.1.
/// </summary>
public sealed class OneVmSmokeTests(ITestOutputHelper output)
{
    // Software emulation on 2 shared cores: a boot takes 1-3 minutes; the deadline is generous.
    static readonly TimeSpan BootDeadline = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task A_database_node_boots_reads_its_drop_in_starts_its_role_and_serves_metrics()
    {
        var port = LoopbackPorts.Free(1)[0];
        var started = DateTime.UtcNow;
        await using var vm = await QemuVm.StartAsync("db1", VmFolder.New("smoke"), SmokeConfig.Database(), SmokeConfig.Mac,
            $"user,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:8008", memoryMiB: 1536);

        await vm.WaitForConsoleAsync("configuration from the disk labelled APPLCFG", BootDeadline);
        await vm.WaitForConsoleAsync($"({SmokeConfig.Mac}) is now lan0", TimeSpan.FromMinutes(1));
        await vm.WaitForConsoleAsync("starting the database role", TimeSpan.FromMinutes(1));
        output.WriteLine($"drop-in read and role started after {(DateTime.UtcNow - started).TotalSeconds:0} s");

        // The single node bootstraps the cluster and leads it, with the hardware watchdog armed (mode "required").
        var metrics = await Metrics.WaitForAsync(port, m => m.Contains("patroni_primary{", StringComparison.Ordinal) && Metrics.Value(m, "patroni_primary") == 1
            && Metrics.Value(m, "appliance_agent_watchdog_armed") == 1, BootDeadline, vm);
        output.WriteLine($"leader with the watchdog armed after {(DateTime.UtcNow - started).TotalSeconds:0} s");
        Assert.Equal(25.0, Metrics.Value(metrics, "appliance_agent_watchdog_timeout_seconds"));
        Assert.DoesNotContain("[FAILED]", vm.Console(), StringComparison.Ordinal);
    }
}
