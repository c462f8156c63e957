using System.Text.Json;
using Appliance.Lab;
using Appliance.TestKit;
using Tmds.Linux;

namespace Appliance.Cluster.Tests;

/// <summary>
/// Fencing with a real agent: <c>[watchdog] mode = "required"</c> over the FUSE-emulated device
/// (native/watchdog-emu), whose log shows every ioctl, keepalive and close; and a node whose device is
/// missing never leads.
/// </summary>
public sealed class WatchdogTests(EmulatorBinary binary) : IClassFixture<EmulatorBinary>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    static LabOptions Required(string name, int members, string device) => ClusterFactory.Options(name) with
    {
        Members = members,
        ExtraToml = new Dictionary<string, string> { ["db1"] = $"[watchdog]\nmode = \"required\"\ndevice = \"{device}\"\nsafety_margin = 5" },
    };

    static async Task<JsonElement?> WatchdogStatusAsync(LocalCluster c, string member)
    {
        using var doc = await c.StatusAsync(member);
        return doc?.RootElement.TryGetProperty("watchdog", out var wd) == true ? wd.Clone() : null;
    }

    [Fact]
    public async Task A_required_watchdog_is_armed_before_leading_fed_while_leading_and_disarmed_with_the_magic_close_on_a_clean_stop()
    {
        // Disposed last: the agents stop before the device goes away.
        using var emu = await WatchdogEmulator.StartAsync(binary);
        await using var c = await ClusterFactory.StartHealthyAsync(Required("wd", 1, emu.DevicePath));
        Assert.Equal("db1", (await c.WaitForPrimaryAsync("db1 leads", Deadline)).Name);

        // Armed with ttl - safety_margin = 10 - 5 before the first keepalive (which follows the first renewal).
        await Wait.UntilAsync("the first keepalive", () => emu.Log.Contains("keepalive"), Deadline);
        var log = emu.Log.ToList();
        var firstFeed = log.IndexOf("keepalive");
        var armed = log.LastIndexOf("settimeout 5 5", firstFeed);
        Assert.True(armed >= 0, $"no SETTIMEOUT 5 before the first keepalive: {string.Join(" | ", log)}");
        Assert.Equal("open", log[armed - 2]);
        Assert.DoesNotContain(log, l => l.StartsWith("settimeout", StringComparison.Ordinal) && l != "settimeout 5 5");

        // Fed while it leads: every renewal (loop_wait 2) is a keepalive.
        var fed = emu.Log.Count(l => l == "keepalive");
        await Wait.UntilAsync("three more keepalives", () => emu.Log.Count(l => l == "keepalive") >= fed + 3, Deadline);

        var wd = await Wait.ForAsync("/patroni shows the watchdog armed", async () =>
            await WatchdogStatusAsync(c, "db1") is { } s && s.GetProperty("armed").GetBoolean() ? (object)s : null, Deadline);
        var status = (JsonElement)wd;
        Assert.Equal("required", status.GetProperty("mode").GetString());
        Assert.Equal(emu.DevicePath, status.GetProperty("device").GetString());
        Assert.Equal("appliance-emu", status.GetProperty("identity").GetString());
        Assert.Equal(5, status.GetProperty("timeout").GetInt32());
        Assert.True(status.TryGetProperty("last_feed", out _));
        using (var doc = await c.StatusAsync("db1"))
            Assert.False(doc!.RootElement.TryGetProperty("watchdog_failed", out _));

        // A clean stop disarms it: 'V' written, then the release (a real device would stop counting).
        var magicCloses = emu.Log.Count(l => l == "release magic");
        c.SignalAgent("db1", LibC.SIGTERM);
        Assert.True(await c["db1"].Agent!.WaitForExitAsync(Deadline), "the agent did not stop on SIGTERM");
        await Wait.UntilAsync($"a magic close after the stop (log: {string.Join(" | ", emu.Log)})",
            () => emu.Log.Count(l => l == "release magic") > magicCloses, TimeSpan.FromSeconds(10));
        Assert.Equal("release magic", emu.Log[^1]);
        Assert.DoesNotContain("release nomagic", emu.Log);
    }

    [Fact]
    public async Task A_node_that_requires_a_missing_watchdog_never_takes_the_leader_key()
    {
        using var dir = new TempDir("appl-wd-missing");
        var missing = dir.Sub("no-such-watchdog");
        await using var c = await ClusterFactory.StartHealthyAsync(Required("wdmiss", 2, missing));
        Assert.Equal("db2", (await c.WaitForPrimaryAsync("db2 leads (db1 may not)", Deadline)).Name);

        using (var doc = await c.StatusAsync("db1"))
        {
            var root = doc!.RootElement;
            Assert.True(root.GetProperty("watchdog_failed").GetBoolean());
            Assert.Equal("required", root.GetProperty("watchdog").GetProperty("mode").GetString());
            Assert.False(root.GetProperty("watchdog").GetProperty("armed").GetBoolean());
            Assert.Contains(missing, root.GetProperty("watchdog").GetProperty("last_error").GetString(), StringComparison.Ordinal);
        }

        // db2 stops cleanly and gives the key up: db1, alone and healthy, still refuses it.
        c.SignalAgent("db2", LibC.SIGTERM);
        Assert.True(await c["db2"].Agent!.WaitForExitAsync(Deadline), "db2's agent did not stop on SIGTERM");
        await Wait.UntilAsync("db1 refuses the free leader key",
            () => File.ReadAllText(c["db1"].AgentLog).Contains("not taking the leader key", StringComparison.Ordinal), Deadline);
        Assert.True(await c.ScalarAsync<bool>("db1", "SELECT pg_is_in_recovery()"), "db1 was promoted without its watchdog");
        Assert.Null(await c.PrimaryAsync());
        // The status is published after the HA cycle that logged the refusal: wait for it, not race it.
        await Wait.UntilAsync("db1's status says the cluster is unlocked", async () =>
        {
            using var doc = await c.StatusAsync("db1");
            return doc is not null && doc.RootElement.TryGetProperty("cluster_unlocked", out var unlocked) && unlocked.GetBoolean();
        }, Deadline);
    }
}
