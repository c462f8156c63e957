using Tmds.Linux;

namespace Appliance.Lab.NetLab;

/// <summary>
/// One long-running program of a lab node (etcd, the agent or Patroni, a balancer, HAProxy,
/// keepalived), which the lab can start again after a fault with the same command line. Signals go to
/// its PID only.
/// </summary>
public sealed class LabService
{
    readonly Func<ChildProcess> _start;

    public LabService(string node, string name, Func<ChildProcess> start)
    {
        Node = node;
        Name = name;
        _start = start;
    }

    /// <summary>The node it runs on ("db1").</summary>
    public string Node { get; }
    /// <summary>What it is on that node ("etcd", "agent", "balancer", "patroni", "haproxy", "keepalived").</summary>
    public string Name { get; }
    public ChildProcess? Process { get; private set; }
    public bool IsRunning => Process is { HasExited: false };
    public int? Pid => IsRunning ? Process!.Pid : null;
    public string? LogPath => Process?.LogPath;

    /// <summary>Starts it; an error if it already runs.</summary>
    public void Start()
    {
        if (IsRunning) throw new InvalidOperationException($"{Node}'s {Name} already runs (PID {Pid})");
        Process = _start();
    }

    /// <summary>Sends <paramref name="signal"/> to it (SIGKILL: crash, SIGSTOP: freeze, SIGCONT: thaw).</summary>
    public void Signal(int signal) => Process?.Signal(signal);

    /// <summary>SIGKILL and wait until it is gone.</summary>
    public async Task KillAsync()
    {
        if (Process is null) return;
        Process.Signal(LibC.SIGKILL);
        await Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>A clean stop (SIGTERM, SIGKILL after <paramref name="grace"/>).</summary>
    public Task StopAsync(TimeSpan grace) => Process?.StopAsync(grace) ?? Task.CompletedTask;

    public string LogTail(int lines = 20) => Process?.LogTail(lines) ?? "";
}
