using System.Diagnostics;

namespace Appliance.Lab.Netns;

/// <summary>What a command said and how it ended.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Output, string Errors)
{
    public bool Ok => ExitCode == 0;

    /// <summary>Throws with the command line and its stderr unless it exited 0.</summary>
    public CommandResult Check() => Ok ? this : throw new InvalidOperationException($"`{Command}` exited {ExitCode}: {Errors.Trim()}{Output.Trim()}");
}

/// <summary>Runs a short command to completion (ip, nft, sysctl) and returns its output.</summary>
public static class Command
{
    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/>; never throws for a non-zero exit (see <see cref="CommandResult.Check"/>).</summary>
    public static async Task<CommandResult> RunAsync(string file, IEnumerable<string> args, string? stdin = null, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null, UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
            p.StandardInput.Close();
        }
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        return new($"{file} {string.Join(' ', psi.ArgumentList)}", p.ExitCode, await stdout, await stderr);
    }

    /// <summary><c>ip &lt;args&gt;</c>, which must succeed.</summary>
    public static async Task<CommandResult> IpAsync(params string[] args) => (await RunAsync("ip", args)).Check();
}
