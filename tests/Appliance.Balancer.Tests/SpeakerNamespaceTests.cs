using Appliance.TestKit;

namespace Appliance.Balancer.Tests;

/// <summary>
/// The speaker over real sockets: two published balancers in two namespaces joined by a veth pair,
/// written like an operator's runbook with generous deadlines. Needs root and <c>ip netns</c>.
/// </summary>
public sealed class SpeakerNamespaceTests : IDisposable
{
    readonly TempDir _dir = new("appl-speaker");
    public void Dispose() => _dir.Dispose();

    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    string Config(string name, string ifname, int priority, int version, string vip, string password = "spk1234", string extra = "")
    {
        var path = _dir.Sub(name + ".toml");
        File.WriteAllText(path, $"""
            [[vrrp]]
            name = "VI_1"
            interface = "{ifname}"
            virtual_router_id = 51
            priority = {priority}
            version = {version}
            advert_int = {(version == 3 ? "0.1" : "1")}
            {(version == 2 ? $"auth_pass = \"{password}\"" : "")}
            virtual_ipaddress = ["{vip}/24"]
            garp_master_delay = 1
            {extra}
            """);
        return path;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task One_master_holds_the_vip_and_hands_it_over_on_kill_and_on_clean_stop(int version)
    {
        Assert.True(Environment.UserName == "root", "needs root: network namespaces, raw sockets, rtnetlink");
        using var lab = await VethNamespaces.CreateAsync();
        var vip = $"10.231.{lab.Subnet}.100";
        var configA = Config("a", lab.IfA, 100, version, vip);
        var configB = Config("b", lab.IfB, 90, version, vip);
        async Task<bool> Holds(string ns, string ifname) => (await lab.AddressesAsync(ns, ifname)).Contains($"{vip}/24");
        Task<bool> AHolds() => Holds(lab.NsA, lab.IfA);
        Task<bool> BHolds() => Holds(lab.NsB, lab.IfB);

        var a = BalancerProcess.Start(lab.NsA, configA);
        using var b = BalancerProcess.Start(lab.NsB, configB);
        var secondA = (BalancerProcess?)null;
        try
        {
            // a (priority 100) is master and holds the VIP; b (90) does not.
            await Wait.UntilAsync("a holds the VIP and b does not", async () => await AHolds() && !await BHolds(), Deadline);
            for (var i = 0; i < 10; i++)
            {
                Assert.False(await AHolds() && await BHolds(), "both nodes hold the VIP while they can hear each other");
                await Task.Delay(100);
            }

            // SIGKILL of the master: no goodbye; b takes over after the master-down interval.
            a.Kill();
            await a.WaitForExitAsync(Deadline);
            await Wait.UntilAsync("b holds the VIP after a was killed", BHolds, Deadline);

            // a comes back: it removes the VIP its killed predecessor left, then preempts b.
            secondA = BalancerProcess.Start(lab.NsA, configA);
            await Wait.UntilAsync("the restarted a holds the VIP and b gave it up", async () => await AHolds() && !await BHolds(), Deadline);

            // A clean stop: priority 0 goodbye, a's VIP removed, b takes over.
            await secondA.TerminateAsync();
            Assert.True(await secondA.WaitForExitAsync(Deadline), "a did not exit after SIGTERM");
            Assert.Equal(0, secondA.ExitCode);
            Assert.False(await AHolds(), "a still holds the VIP after a clean stop");
            await Wait.UntilAsync("b holds the VIP after a's clean stop", BHolds, Deadline);

            await b.TerminateAsync();
            Assert.True(await b.WaitForExitAsync(Deadline), "b did not exit after SIGTERM");
            Assert.Equal(0, b.ExitCode);
            Assert.False(await BHolds(), "b still holds the VIP after a clean stop");
        }
        catch (Exception e)
        {
            // The speakers' logs say what happened; keep them with the failure.
            throw new InvalidOperationException($"{e.Message}\n--- a ---\n{a.Output}{secondA?.Output}\n--- b ---\n{b.Output}", e);
        }
        finally
        {
            a.Dispose();
            secondA?.Dispose();
        }
    }

    [Fact]
    public async Task Wrong_password_adverts_are_counted_and_ignored()
    {
        Assert.True(Environment.UserName == "root", "needs root: network namespaces, raw sockets, rtnetlink");
        using var lab = await VethNamespaces.CreateAsync();
        var vip = $"10.231.{lab.Subnet}.100";
        using var a = BalancerProcess.Start(lab.NsA, Config("a", lab.IfA, 100, 2, vip, "right"));
        using var b = BalancerProcess.Start(lab.NsB, Config("b", lab.IfB, 90, 2, vip, "wrong"));
        try
        {
            // Neither hears the other: both become master (a misconfiguration keepalived shows the same way),
            // and each counts the other's adverts as AuthMismatch drops in /metrics.
            await Wait.UntilAsync("b counts a's adverts as AuthMismatch drops and holds the VIP anyway", async () =>
                await DropsAsync(lab.NsB, "AuthMismatch") >= 2
                && (await lab.AddressesAsync(lab.NsB, lab.IfB)).Contains($"{vip}/24"), Deadline);
            Assert.True(await DropsAsync(lab.NsA, "AuthMismatch") >= 1, "a counted no AuthMismatch drop");
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{e.Message}\n--- a ---\n{a.Output}\n--- b ---\n{b.Output}", e);
        }
    }

    /// <summary>appliance_vrrp_drops_total{reason} from the balancer's /metrics inside the namespace.</summary>
    static async Task<double> DropsAsync(string ns, string reason)
    {
        var r = await Cli.RunAsync("ip", ["netns", "exec", ns, "curl", "-sf", "http://127.0.0.1:8009/metrics"]);
        var line = r.Output.Split('\n').FirstOrDefault(l => l.StartsWith("appliance_vrrp_drops_total{", StringComparison.Ordinal) && l.Contains($"reason=\"{reason}\"", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_failing_track_script_hands_the_vip_over()
    {
        Assert.True(Environment.UserName == "root", "needs root: network namespaces, raw sockets, rtnetlink");
        using var lab = await VethNamespaces.CreateAsync();
        var vip = $"10.231.{lab.Subnet}.100";
        var healthy = _dir.Sub("proxy-healthy");
        File.WriteAllText(healthy, "");
        // The seed's chk_haproxy: weight -30 takes a priority-100 master below a priority-90 backup.
        var track = $"""
            [[vrrp.track_script]]
            name = "chk_proxy"
            script = "/usr/bin/test -e {healthy}"
            interval = 1
            timeout = 1
            weight = -30
            """;
        using var a = BalancerProcess.Start(lab.NsA, Config("a", lab.IfA, 100, 3, vip, extra: track));
        using var b = BalancerProcess.Start(lab.NsB, Config("b", lab.IfB, 90, 3, vip));
        async Task<bool> Holds(string ns, string ifname) => (await lab.AddressesAsync(ns, ifname)).Contains($"{vip}/24");
        try
        {
            await Wait.UntilAsync("a (check passing) holds the VIP and b does not",
                async () => await Holds(lab.NsA, lab.IfA) && !await Holds(lab.NsB, lab.IfB), Deadline);
            File.Delete(healthy);
            await Wait.UntilAsync("b holds the VIP and a gave it up after a's check failed",
                async () => await Holds(lab.NsB, lab.IfB) && !await Holds(lab.NsA, lab.IfA), Deadline);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{e.Message}\n--- a ---\n{a.Output}\n--- b ---\n{b.Output}", e);
        }
    }

    [Fact]
    public async Task Unicast_peers_work_with_multicast_blocked()
    {
        Assert.True(Environment.UserName == "root", "needs root: network namespaces, raw sockets, rtnetlink");
        using var lab = await VethNamespaces.CreateAsync();
        var vip = $"10.231.{lab.Subnet}.100";
        // Inside the namespaces only: drop every datagram to 224.0.0.18 on the way in and out.
        foreach (var ns in new[] { lab.NsA, lab.NsB })
        {
            foreach (var rule in new[]
            {
                "add table ip aplspk",
                "add chain ip aplspk in { type filter hook input priority 0 ; }",
                "add chain ip aplspk out { type filter hook output priority 0 ; }",
                "add rule ip aplspk in ip daddr 224.0.0.18 drop",
                "add rule ip aplspk out ip daddr 224.0.0.18 drop",
            })
            {
                var r = await Cli.RunAsync("ip", ["netns", "exec", ns, "nft", .. rule.Split(' ')]);
                Assert.True(r.ExitCode == 0, $"nft {rule}: {r.Errors}");
            }
        }
        using var a = BalancerProcess.Start(lab.NsA, Config("a", lab.IfA, 100, 3, vip, extra: $"unicast_peers = [\"{lab.AddressB}\"]"));
        using var b = BalancerProcess.Start(lab.NsB, Config("b", lab.IfB, 90, 3, vip, extra: $"unicast_peers = [\"{lab.AddressA}\"]"));
        async Task<bool> Holds(string ns, string ifname) => (await lab.AddressesAsync(ns, ifname)).Contains($"{vip}/24");
        try
        {
            await Wait.UntilAsync("a holds the VIP and b does not", async () => await Holds(lab.NsA, lab.IfA) && !await Holds(lab.NsB, lab.IfB), Deadline);
            for (var i = 0; i < 10; i++)
            {
                Assert.False(await Holds(lab.NsA, lab.IfA) && await Holds(lab.NsB, lab.IfB), "both nodes hold the VIP: unicast adverts do not arrive");
                await Task.Delay(100);
            }
            a.Kill();
            await Wait.UntilAsync("b holds the VIP after a was killed", () => Holds(lab.NsB, lab.IfB), Deadline);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{e.Message}\n--- a ---\n{a.Output}\n--- b ---\n{b.Output}", e);
        }
    }

    [Fact]
    public async Task Gratuitous_arps_are_seen_on_the_wire_when_a_node_becomes_master()
    {
        Assert.True(Environment.UserName == "root", "needs root: network namespaces, raw sockets, rtnetlink");
        using var lab = await VethNamespaces.CreateAsync();
        var vip = $"10.231.{lab.Subnet}.100";
        // Capture in b's namespace what arrives over the veth: 5 ARP frames are the first burst (garp_master_repeat).
        var psi = new System.Diagnostics.ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "netns", "exec", lab.NsB, "tcpdump", "-l", "-n", "-e", "-c", "5", "-i", lab.IfB, "arp" }) psi.ArgumentList.Add(arg);
        using var tcpdump = System.Diagnostics.Process.Start(psi)!;
        var captured = tcpdump.StandardOutput.ReadToEndAsync();
        var listening = tcpdump.StandardError.ReadLineAsync(); // "listening on ...": the capture is armed
        try
        {
            await listening.WaitAsync(Deadline);
            using var a = BalancerProcess.Start(lab.NsA, Config("a", lab.IfA, 100, 3, vip));
            var lines = (await captured.WaitAsync(Deadline)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(5, lines.Length);
            // ip netns exec remounts /sys for the namespace: a's interface is not in the host's.
            var mac = (await Cli.RunAsync("ip", ["netns", "exec", lab.NsA, "cat", $"/sys/class/net/{lab.IfA}/address"])).Output.Trim();
            // keepalived's form: from our MAC to broadcast, "who-has VIP (ff:ff:ff:ff:ff:ff) tell VIP".
            Assert.All(lines, l =>
            {
                Assert.Contains($"{mac} > ff:ff:ff:ff:ff:ff", l, StringComparison.Ordinal);
                Assert.Contains($"Request who-has {vip} (ff:ff:ff:ff:ff:ff) tell {vip}", l, StringComparison.Ordinal);
            });
        }
        finally
        {
            if (!tcpdump.HasExited) tcpdump.Kill();
        }
    }

    [Fact]
    public async Task Link_down_on_the_instance_interface_is_a_fault_that_gives_up_the_vip()
    {
        Assert.True(Environment.UserName == "root", "needs root: network namespaces, raw sockets, rtnetlink");
        using var lab = await VethNamespaces.CreateAsync();
        var vip = $"10.231.{lab.Subnet}.100";
        using var a = BalancerProcess.Start(lab.NsA, Config("a", lab.IfA, 100, 3, vip));
        async Task<bool> AHolds() => (await lab.AddressesAsync(lab.NsA, lab.IfA)).Contains($"{vip}/24");
        async Task<string> AStatus() => (await Cli.RunAsync("ip", ["netns", "exec", lab.NsA, "curl", "-sf", "http://127.0.0.1:8009/status"])).Output;
        try
        {
            await Wait.UntilAsync("a holds the VIP", AHolds, Deadline);
            await Cli.RunAsync("ip", ["-n", lab.NsA, "link", "set", lab.IfA, "down"]);
            await Wait.UntilAsync("a is in FAULT and gave up the VIP",
                async () => (await AStatus()).Contains("\"state\":\"FAULT\"", StringComparison.Ordinal) && !await AHolds(), Deadline);
            await Cli.RunAsync("ip", ["-n", lab.NsA, "link", "set", lab.IfA, "up"]);
            await Wait.UntilAsync("a is master again with the VIP", AHolds, Deadline);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{e.Message}\n--- a ---\n{a.Output}", e);
        }
    }
}
