using Appliance.Lab.Netns;
using Tmds.Linux;

namespace Appliance.Lab.Keepalived;

/// <summary>
/// A real keepalived (Debian's package) running one VRRP instance in a node's namespace, in the
/// foreground, with its configuration, PID files, log and notify log in a folder of its own.
/// </summary>
/// <remarks>
/// keepalived is two processes: the parent and its VRRP child, which speaks VRRP and holds the VIP.
/// A clean stop is SIGTERM to the parent (it stops the child, which sends a priority-0 advert and
/// removes the VIP). A crash is SIGKILL to the child, then to the parent: killing the parent first
/// would let the child shut down cleanly, and with <c>--dont-respawn</c> the parent never starts a
/// new child meanwhile.
/// </remarks>
public sealed class KeepalivedProcess : IAsyncDisposable
{
    readonly ChildProcess _parent;

    /// <summary>The node it runs on.</summary>
    public string Node { get; }
    public KeepalivedInstance Instance { get; }
    public string Directory { get; }
    /// <summary>Where the notify script appends one line per transition: <c>&lt;unix time&gt; INSTANCE &lt;name&gt; &lt;state&gt; &lt;priority&gt;</c>.</summary>
    public string NotifyLog => Path.Combine(Directory, "notify.log");
    public string VrrpPidFile => Path.Combine(Directory, "vrrp.pid");
    /// <summary>The parent's PID.</summary>
    public int Pid => _parent.Pid;
    public bool HasExited => _parent.HasExited;

    KeepalivedProcess(string node, KeepalivedInstance instance, string dir, ChildProcess parent)
    {
        Node = node;
        Instance = instance;
        Directory = dir;
        _parent = parent;
    }

    /// <summary>
    /// Writes the configuration and starts keepalived on <paramref name="node"/>. The instance's notify
    /// script, when none is given, is one that records transitions in <see cref="NotifyLog"/>.
    /// </summary>
    public static KeepalivedProcess Start(NetnsTopology topology, string node, KeepalivedInstance instance)
    {
        var dir = topology.FilePath($"keepalived-{node}");
        System.IO.Directory.CreateDirectory(dir);
        if (instance.NotifyScript is null)
        {
            var script = Path.Combine(dir, "notify.sh");
            File.WriteAllText(script, $"#!/bin/sh\necho \"$(date +%s.%N) $*\" >> '{Path.Combine(dir, "notify.log")}'\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            instance = instance with { NotifyScript = script };
        }
        var conf = Path.Combine(dir, "keepalived.conf");
        File.WriteAllText(conf, instance.Render());
        // --vrrp: no checker child. --no-syslog --log-console: the log is our file. --dont-respawn: a
        // killed VRRP child stays dead, as a crashed node's would.
        var p = topology.Start(node, $"keepalived-{node}", "keepalived",
        [
            "--dont-fork", "--log-console", "--log-detail", "--no-syslog", "--vrrp", "--dont-respawn",
            "--use-file", conf, "--pid", Path.Combine(dir, "keepalived.pid"), "--vrrp_pid", Path.Combine(dir, "vrrp.pid"),
        ]);
        return new KeepalivedProcess(node, instance, dir, p);
    }

    /// <summary>The VRRP child's PID once it has written its PID file; null before.</summary>
    public int? VrrpPid
    {
        get
        {
            try { return int.TryParse(File.ReadAllText(VrrpPidFile).Trim(), out var pid) ? pid : null; }
            catch (IOException) { return null; }
        }
    }

    /// <summary>The states the notify script recorded, in the order the scripts appended them ("MASTER", "BACKUP", "FAULT", "STOP").</summary>
    public IReadOnlyList<string> Transitions()
    {
        try
        {
            return File.ReadAllLines(NotifyLog).Select(l => l.Split(' ')).Where(f => f.Length >= 4).Select(f => f[3]).ToList();
        }
        catch (IOException) { return []; }
    }

    /// <summary>
    /// The state keepalived last entered, from its own log ("(VI_1) Entering MASTER STATE"); null
    /// before the first. Not from the notify log: keepalived forks one notify script per transition,
    /// and two transitions within a millisecond were seen appended in the wrong order.
    /// </summary>
    public string? State
    {
        get
        {
            string? state = null;
            try
            {
                foreach (var line in File.ReadLines(_parent.LogPath))
                {
                    var at = line.IndexOf(") Entering ", StringComparison.Ordinal);
                    if (at < 0 || !line.EndsWith(" STATE", StringComparison.Ordinal) && !line.Contains(" STATE (", StringComparison.Ordinal)) continue;
                    state = line[(at + ") Entering ".Length)..].Split(' ')[0];
                }
            }
            catch (IOException) { }
            return state;
        }
    }

    /// <summary>A clean stop: SIGTERM to the parent; true when it exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        _parent.Signal(LibC.SIGTERM);
        return await _parent.WaitForExitAsync(timeout);
    }

    /// <summary>A crash: SIGKILL to the VRRP child, then to the parent. The VIP stays configured on the node, as after a real crash.</summary>
    public async Task KillAsync()
    {
        if (VrrpPid is { } child) _ = LibC.kill(child, LibC.SIGKILL);
        _parent.Signal(LibC.SIGKILL);
        await _parent.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>The last lines of keepalived's own log.</summary>
    public string LogTail(int lines = 30) => _parent.LogTail(lines);

    public async ValueTask DisposeAsync()
    {
        if (!_parent.HasExited && !await TerminateAsync(TimeSpan.FromSeconds(10))) await KillAsync();
        await _parent.DisposeAsync();
    }
}
