using System.Diagnostics;
using System.Text;

namespace Appliance.Balancer.Tests;

/// <summary>
/// One published <c>appliance-balancer run</c> inside a namespace (<c>ip netns exec</c> execs it, so
/// the process we start is the balancer itself and its PID is the one we signal). Output is kept for
/// failure messages. Dispose kills it (by PID) if the test did not stop it.
/// </summary>
public sealed class BalancerProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();

    BalancerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>
    /// The binary under test: <c>APPLIANCE_BALANCER_BIN</c>, else the repository's
    /// <c>artifacts/bin/appliance-balancer</c> (the AOT publish). Missing is a failure, not a skip.
    /// </summary>
    public static string Binary()
    {
        if (Environment.GetEnvironmentVariable("APPLIANCE_BALANCER_BIN") is { Length: > 0 } bin) return bin;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Appliance.sln")))
            {
                var path = Path.Combine(dir.FullName, "artifacts", "bin", "appliance-balancer");
                Assert.True(File.Exists(path), $"{path} is missing: publish it first (dotnet publish src/Appliance.Balancer -c Release -o artifacts/bin) or set APPLIANCE_BALANCER_BIN");
                return path;
            }
        }
        throw new InvalidOperationException("repository root (Appliance.sln) not found");
    }

    public static BalancerProcess Start(string ns, string configPath)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "netns", "exec", ns, Binary(), "run", "--config", configPath }) psi.ArgumentList.Add(a);
        psi.Environment.Remove("APPLIANCE_CONFIG");
        return new BalancerProcess(Process.Start(psi) ?? throw new InvalidOperationException("cannot start ip netns exec"));
    }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>What it logged so far.</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>SIGKILL: no goodbye, the VIP stays behind.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM, by PID.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    public async Task<bool> WaitForExitAsync(TimeSpan deadline)
    {
        using var cts = new CancellationTokenSource(deadline);
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

    void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
