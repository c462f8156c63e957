using Appliance.TestKit;

namespace Appliance.Balancer.Tests;

/// <summary>
/// Our speaker and Debian's keepalived in one virtual router (same VRID, version, interval and
/// password), in both priority orders: one master holds the VIP and the client reaches it through
/// it; after SIGKILL of the master the other implementation takes the VIP and the client follows.
/// </summary>
[Collection("netns")]
public sealed class KeepalivedInteropTests
{
    [Theory]
    [InlineData(2, "ours")]
    [InlineData(2, "keepalived")]
    [InlineData(3, "ours")]
    [InlineData(3, "keepalived")]
    public async Task Ours_and_keepalived_form_one_virtual_router(int version, string master)
    {
        await using var lab = await VipLab.CreateAsync();
        // lb1 runs the implementation under test as the priority-100 master, lb2 the other at 90.
        var oursNode = master == "ours" ? "lb1" : "lb2";
        var theirsNode = master == "ours" ? "lb2" : "lb1";
        var ours = lab.StartOurs(oursNode, VipLab.Ours(version, oursNode == "lb1" ? 100 : 90));
        var theirs = lab.StartKeepalived(theirsNode, VipLab.Theirs(version, theirsNode == "lb1" ? 100 : 90));
        string Logs() => $"--- ours on {oursNode} ---\n{ours.LogTail()}\n--- keepalived on {theirsNode} ---\n{theirs.LogTail()}";
        string? StateOf(string node) => node == oursNode ? ours.State : theirs.State;

        await VipLab.WithLogsAsync(Logs, async () =>
        {
            await Wait.UntilAsync("lb1 is MASTER and lb2 BACKUP", () => StateOf("lb1") == "MASTER" && StateOf("lb2") == "BACKUP", VipLab.Deadline);
            await lab.UntilClientReachesAsync("lb1");
            Assert.True(await lab.HoldsVipAsync("lb1"), "lb1 is master but does not hold the VIP");
            await lab.NeverBothHoldAsync();
            Assert.Equal("BACKUP", StateOf("lb2"));

            // A crash of the master: no goodbye, its VIP stays behind; the other implementation takes over
            // after its master-down interval and its gratuitous ARPs move the client.
            if (oursNode == "lb1") await ours.KillAsync();
            else await theirs.KillAsync();
            await Wait.UntilAsync("lb2 is MASTER", () => StateOf("lb2") == "MASTER", VipLab.Deadline);
            Assert.True(await lab.HoldsVipAsync("lb2"), "lb2 is master but does not hold the VIP");
            await lab.UntilClientReachesAsync("lb2");
        });
    }
}
