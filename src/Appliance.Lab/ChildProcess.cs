using System.Diagnostics;
using Tmds.Linux;

namespace Appliance.Lab;

/// <summary>
/// A process the lab started, with its output appended to a log file. It is signalled by its own
/// PID only (never by name), and survives the lab's crash only as long as the lab's cleanup allows.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    readonly Process _process;
    bool _disposed;
    public string Name { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;
    public bool HasExited => _disposed || _process.HasExited;
    /// <summary>The exit code once it exited; null while it runs or after dispose.</summary>
    public int? ExitCode => !_disposed && _process.HasExited ? _process.ExitCode : null;

    ChildProcess(string name, Process p, string log)
    {
        Name = name;
        _process = p;
        LogPath = log;
    }

    /// <summary>Starts <paramref name="file"/> with <paramref name="args"/>; stdout and stderr go to <paramref name="logPath"/>.</summary>
    public static ChildProcess Start(string name, string file, IEnumerable<string> args, string logPath, IReadOnlyDictionary<string, string>? env = null)
    {
        // exec through sh so the PID is the program's own and its output lands in the file even if the lab dies.
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" >>\"$APPL_LAB_LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add(file);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["APPL_LAB_LOG"] = logPath;
        if (env is not null)
            foreach (var (k, v) in env) psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        return new ChildProcess(name, p, logPath);
    }

    /// <summary>Sends <paramref name="signal"/> (SIGTERM, SIGKILL, SIGSTOP, SIGCONT...) to this process.</summary>
    public void Signal(int signal)
    {
        if (!HasExited) _ = LibC.kill(_process.Id, signal);
    }

    /// <summary>Waits until it exits; false when <paramref name="timeout"/> passes first.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited) return;
        Signal(LibC.SIGCONT);
        Signal(LibC.SIGTERM);
        if (!await WaitForExitAsync(grace))
        {
            Signal(LibC.SIGKILL);
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public string LogTail(int lines = 20)
    {
        try { return string.Join('\n', File.ReadLines(LogPath).TakeLast(lines)); } catch (IOException) { return ""; }
    }

    /// <summary>Stops the process and releases it; a second call does nothing (an owner and the topology may both dispose it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await StopAsync(TimeSpan.FromSeconds(20));
        _disposed = true;
        _process.Dispose();
    }
}
