using Appliance.Lab.NetLab;
using Appliance.Lab.Vm;
using Xunit.Abstractions;

namespace Appliance.Image.Tests.VmLab;

/// <summary>
/// The five-VM cluster from the image (what <c>just vm-lab</c> runs): the primary's VM and then the VRRP
/// master's VM crash under the checker's workload through the VIP; nothing acknowledged is lost, writes
/// resume through the VIP after each crash, and both VMs rejoin when booted again.
/// </summary>
[Collection(VmLabCollection.Name)]
public sealed class FiveVmClusterTests(ITestOutputHelper output)
{
    [VmLabFact]
    public async Task A_primary_VM_crash_and_a_balancer_VM_crash_lose_nothing_acknowledged_and_the_crashed_VMs_rejoin()
    {
        var log = new TestOutputWriter(output);
        await using var lab = await Appliance.Lab.Vm.VmLab.StartAsync(LabLayout.Databases, LabLayout.Balancers, VmLabConfig.Profile, new VmLabConfig.Watchdog(), log, CancellationToken.None);

        var result = await VmLabScenario.RunAsync(lab, log, CancellationToken.None);

        foreach (var line in result.Lines()) output.WriteLine(line);
        Assert.True(result.Violations.Count == 0, string.Join("\n", result.Lines()));
        Assert.NotEqual(result.CrashedPrimary, result.NewLeader);
        Assert.NotEqual(result.CrashedBalancer, result.NewVipHolder);
        Assert.Empty(result.Check.Lost);
        Assert.True(result.Check.Inserts.Ok > 0);
    }
}
