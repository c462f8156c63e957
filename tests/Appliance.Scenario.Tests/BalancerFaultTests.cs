using Xunit.Abstractions;

namespace Appliance.Scenario.Tests;

/// <summary>The balancer holding the VIP goes away; the other takes the VIP and the same routes.</summary>
[Collection(LabCollection.Name)]
public sealed class BalancerFaultTests(LabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task Balancer_master_crash_moves_the_VIP_and_writes_go_on()
    {
        await using var run = await ScenarioRun.StartAsync(lab, "balancer master crash", output);
        var old = run.VipHolder;
        run.Fault($"{old} crashes (every process killed, cable pulled)");
        await run.Faults.CrashNodeAsync(old);
        await run.WaitAsync("the other balancer holds the VIP and routes writes", h => h.VipHolders is [var v] && v != old && h.Primary is { ReadWrite: true });
        await run.WaitAckedAsync("writes acknowledged again");
        await run.Faults.BootNodeAsync(old);
        await run.FinishAsync();
    }

    [Fact]
    public async Task Balancer_master_clean_stop_hands_the_VIP_over()
    {
        await using var run = await ScenarioRun.StartAsync(lab, "balancer master clean stop", output);
        var old = run.VipHolder;
        var services = run.Lab.Stack.BalancerServices;
        run.Fault($"{old}'s {string.Join(" and ", services)} stopped cleanly (SIGTERM)");
        // The VRRP speaker first, as systemd stops a node: it gives the VIP away before the proxy goes.
        foreach (var s in services.Reverse()) await run.Lab[old][s].StopAsync(TimeSpan.FromSeconds(20));
        await run.WaitAsync("the other balancer holds the VIP and routes writes", h => h.VipHolders is [var v] && v != old && h.Primary is { ReadWrite: true });
        await run.WaitAckedAsync("writes acknowledged again");
        foreach (var s in services) run.Faults.Restart(old, s);
        await run.FinishAsync();
    }
}
