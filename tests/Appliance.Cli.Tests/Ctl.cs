using System.Diagnostics;

namespace Appliance.Cli.Tests;

/// <summary>Runs the built appliancectl as an operator would, with standard input closed (not a terminal), and returns what it said.</summary>
public static class Ctl
{
    public sealed record Result(int ExitCode, string Output, string Errors)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Errors}";
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "appliancectl.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("APPLIANCE_CONFIG");
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start appliancectl");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await p.WaitForExitAsync(cts.Token);
        return new(p.ExitCode, await stdout, await stderr);
    }

    /// <summary>The real patronictl (Debian's patroni 3.0.2) with this configuration file only.</summary>
    public static async Task<Result> PatronictlAsync(string config, string home, params string[] args)
    {
        var r = await Appliance.TestKit.Cli.RunAsync("patronictl", ["-c", config, .. args], new Dictionary<string, string?> { ["HOME"] = home });
        return new(r.ExitCode, r.Output, r.Errors);
    }
}
