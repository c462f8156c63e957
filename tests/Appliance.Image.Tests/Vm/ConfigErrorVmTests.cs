using Appliance.Lab;
using Appliance.Lab.Vm;

namespace Appliance.Image.Tests.Vm;

/// <summary>
/// A node whose drop-in is bad starts no role and says why: on the console and, through QEMU's restricted
/// user-mode network (DHCP fallback), as <c>appliance_node_config_error 1</c> on port 8008. A class of its own,
/// so that it boots beside the smoke test's VM instead of after it.
/// </summary>
public sealed class ConfigErrorVmTests
{
    static readonly TimeSpan BootDeadline = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task A_bad_drop_in_keeps_the_node_in_configuration_error_and_says_why()
    {
        var port = LoopbackPorts.Free(1)[0];
        await using var vm = await QemuVm.StartAsync("db9", VmFolder.New("bad"), SmokeConfig.Broken(), SmokeConfig.Mac,
            $"user,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:8008", memoryMiB: 1024);

        await vm.WaitForConsoleAsync("CONFIGURATION ERROR", BootDeadline);
        await vm.WaitForConsoleAsync("system.roles", TimeSpan.FromMinutes(1));
        var metrics = await Metrics.WaitForAsync(port, m => Metrics.Value(m, "appliance_node_config_error") == 1, BootDeadline, vm);
        Assert.Null(Metrics.Value(metrics, "patroni_primary"));
        var console = vm.Console();
        Assert.DoesNotContain("starting the database role", console, StringComparison.Ordinal);
        Assert.Contains("expected one of \"database\", \"balancer\", found \"datbase\"", console, StringComparison.Ordinal);
    }
}
