using System.Diagnostics;
using Appliance.Lab.Keepalived;
using Appliance.Lab.NetLab.Reference;

namespace Appliance.Lab.NetLab;

/// <summary>
/// The classic stack from Debian's packages, configured as the seed was (../shared/compat/patroni-3.0.2):
/// Patroni 3.0.2 with etcd3 on each database node, HAProxy 2.6 and keepalived 2.2.7 (VRRP, tracking
/// its own HAProxy) on each balancer node. Every program runs in the foreground, so the PID the lab
/// holds is the program's own.
/// </summary>
public sealed class ReferenceStack : ILabStack
{
    /// <summary>Patroni's documented floors (enforced from Patroni 3.1; 3.0.2 takes anything): ttl, loop_wait, retry_timeout.</summary>
    const int MinTtl = 20, MinLoopWait = 1, MinRetryTimeout = 3;

    bool _noted;

    public string Name => "reference";
    public string DatabaseManager => "patroni";
    public IReadOnlyList<string> BalancerServices { get; } = ["haproxy", "keepalived"];

    public void StartDatabase(NetLab lab, LabNode node)
    {
        var timings = PatroniTimings(lab.Profile);
        if (timings != lab.Profile && !_noted)
        {
            _noted = true;
            Console.WriteLine($"  note: Patroni does not support the {lab.Profile.Name} profile's timings (ttl {lab.Profile.Ttl}, loop_wait {lab.Profile.LoopWait}, " +
                $"retry_timeout {lab.Profile.RetryTimeout}); the reference stack runs ttl {timings.Ttl}, loop_wait {timings.LoopWait}, retry_timeout {timings.RetryTimeout}");
        }
        var config = Path.Combine(node.Dir, "patroni.yml");
        File.WriteAllText(config, PatroniConfig.Render(lab, node, timings));
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // PostgreSQL refuses root: Patroni runs as postgres, which must own the node's folder (for
        // pgdata, the pgpass file and the socket) and its configuration.
        Chown(node.Dir, config);
        string[] args = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", "env", $"HOME={node.Dir}", "/usr/bin/patroni", config];
        node.Run("patroni", () => lab.Topology.Start(node.Name, $"{node.Name}-patroni", "setpriv", args));
    }

    public void StartBalancer(NetLab lab, LabNode node, int priority)
    {
        var config = Path.Combine(node.Dir, "haproxy.cfg");
        File.WriteAllText(config, HaproxyConfig.Render(lab, node));
        // In the foreground (-db) HAProxy writes no PID file: the lab writes the one chk_haproxy reads, at each start.
        var pidFile = Path.Combine(node.Dir, "haproxy.pid");
        node.Run("haproxy", () =>
        {
            var p = lab.Topology.Start(node.Name, $"{node.Name}-haproxy", "haproxy", ["-db", "-f", config]);
            File.WriteAllText(pidFile, $"{p.Pid}\n");
            return p;
        });
        StartKeepalived(lab, node, priority, pidFile);
    }

    /// <summary>keepalived holding the VIP while this node's HAProxy lives (priority -30 after 3 failed checks 3 s apart, as the seed's).</summary>
    static void StartKeepalived(NetLab lab, LabNode node, int priority, string haproxyPidFile)
    {
        // kill -0 on this node's HAProxy PID: the namespaces share one PID namespace, so the seed's
        // `killall -0 haproxy` would see the other balancer's.
        var check = WriteScript(node, "chk_haproxy.sh", $"#!/bin/sh\nexec kill -0 \"$(cat '{haproxyPidFile}')\" 2>/dev/null\n");
        var notify = WriteScript(node, "notify.sh", $"#!/bin/sh\necho \"$(date +%s.%N) $*\" >> '{Path.Combine(node.Dir, "notify.log")}'\n");
        var p = lab.Profile;
        var instance = new KeepalivedInstance
        {
            RouterId = node.Name,
            Interface = Netns.NodeSpec.Interface,
            VirtualRouterId = LabLayout.VirtualRouterId,
            Priority = priority,
            Vip = LabLayout.Vip,
            VipPrefixLength = LabLayout.VipPrefixLength,
            Version = p.VrrpVersion,
            AdvertInterval = TimeSpan.FromSeconds(p.AdvertInterval),
            GarpMasterDelay = p.GarpMasterDelay,
            AuthPass = p.VrrpVersion == 2 ? NetLab.VrrpPassword : null,
            TrackScript = new KeepalivedScript("chk_haproxy", check),
            NotifyScript = notify,
        };
        var config = Path.Combine(node.Dir, "keepalived.conf");
        File.WriteAllText(config, instance.Render());
        // Its own PID files: the default /run/keepalived*.pid would clash between the two balancers.
        // --vrrp: the seed has no virtual_server, so no checker process.
        string[] args =
        [
            "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp", "--use-file", config,
            "--pid", Path.Combine(node.Dir, "keepalived.pid"), "--vrrp_pid", Path.Combine(node.Dir, "vrrp.pid"),
        ];
        node.Run("keepalived", () => lab.Topology.Start(node.Name, $"{node.Name}-keepalived", "keepalived", args));
    }

    /// <summary>
    /// The profile's timings raised to what Patroni supports: ttl at least 20 s, loop_wait 1 s,
    /// retry_timeout 3 s, and loop_wait + 2 × retry_timeout within the ttl.
    /// </summary>
    public static LabProfile PatroniTimings(LabProfile p)
    {
        var loopWait = Math.Max(p.LoopWait, MinLoopWait);
        var retry = Math.Max(p.RetryTimeout, MinRetryTimeout);
        var ttl = Math.Max(Math.Max(p.Ttl, MinTtl), loopWait + 2 * retry);
        return p with { Ttl = ttl, LoopWait = loopWait, RetryTimeout = retry };
    }

    static string WriteScript(LabNode node, string name, string text)
    {
        var path = Path.Combine(node.Dir, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    static void Chown(params string[] paths)
    {
        using var p = Process.Start(new ProcessStartInfo("chown", ["postgres:postgres", .. paths]) { UseShellExecute = false })!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"chown postgres {string.Join(' ', paths)} exited {p.ExitCode}");
    }
}
