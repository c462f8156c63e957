using System.Diagnostics;
using Appliance.Lab.Netns;
using Appliance.TestKit;

namespace Appliance.Netns.Tests;

/// <summary>The sweeper removes leftovers of crashed runs of this harness, and nothing else.</summary>
public sealed class SweeperTests
{
    /// <summary>A PID no process has now: one of a process that has just exited.</summary>
    static async Task<int> DeadPidAsync()
    {
        using var p = Process.Start("true")!;
        var pid = p.Id;
        await p.WaitForExitAsync();
        return pid;
    }

    [Fact]
    public async Task Removes_a_dead_owners_namespace_and_folder_and_leaves_live_and_foreign_ones()
    {
        var dead = new NetnsName(await DeadPidAsync(), "dead");
        var live = NetnsName.New();
        var stale = dead.Namespace("lb1");
        var mine = live.Namespace("lb1");
        var foreign = $"aplx-{dead.OwnerPid}-{dead.Tag}-lb1";
        var staleDir = Path.Combine(Path.GetTempPath(), dead.Prefix);
        Process? leftover = null;
        try
        {
            foreach (var ns in new[] { stale, mine, foreign }) (await Command.RunAsync("ip", ["netns", "add", ns])).Check();
            Directory.CreateDirectory(staleDir);
            // A process left running inside the stale namespace: the sweeper must end it too.
            leftover = Process.Start("ip", ["netns", "exec", stale, "sleep", "600"])!;
            var pid = leftover.Id.ToString();
            await Wait.UntilAsync("the leftover runs inside the stale namespace",
                async () => (await Command.RunAsync("ip", ["netns", "pids", stale])).Output.Split('\n').Contains(pid), TimeSpan.FromSeconds(30));

            var removed = await NetnsSweeper.SweepAsync();

            Assert.Contains(stale, removed);
            Assert.Contains(staleDir, removed);
            Assert.False(File.Exists($"/run/netns/{stale}"));
            Assert.False(Directory.Exists(staleDir));
            Assert.True(File.Exists($"/run/netns/{mine}"));
            Assert.True(File.Exists($"/run/netns/{foreign}"));
            Assert.True(leftover.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            if (leftover is { HasExited: false }) leftover.Kill();
            leftover?.Dispose();
            foreach (var ns in new[] { stale, mine, foreign }) await Command.RunAsync("ip", ["netns", "del", ns]);
            if (Directory.Exists(staleDir)) Directory.Delete(staleDir, true);
        }
    }

    [Theory]
    [InlineData("apl-1234-0a1b-lb1", 1234, "0a1b")]
    [InlineData("apl-99-ffff", 99, "ffff")]
    [InlineData("apl-1234-0a1b-sw", 1234, "0a1b")]
    public void Parses_its_own_names(string name, int pid, string tag) => Assert.Equal(new NetnsName(pid, tag), NetnsName.Parse(name));

    [Theory]
    [InlineData("apl-1234-0a1-lb1")]
    [InlineData("apl-x-0a1b-lb1")]
    [InlineData("appl-test-1234-0a1b")]
    [InlineData("apl-1234-0A1B-lb1")]
    [InlineData("apl-1234-0a1b-LB1")]
    [InlineData("cni-1234")]
    public void Ignores_other_names(string name) => Assert.Null(NetnsName.Parse(name));
}
