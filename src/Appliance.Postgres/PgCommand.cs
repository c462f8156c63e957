using System.Diagnostics;
using System.Text;

namespace Appliance.Postgres;

/// <summary>The result of one PostgreSQL program run: exit code and the tail of its combined output.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Output)
{
    public bool Succeeded => ExitCode == 0;

    public CommandResult ThrowOnFailure()
        => Succeeded ? this : throw new PostgresControlException($"{Command} exited with {ExitCode}: {Output.Trim()}");
}

/// <summary>Something the controller could not do; the message says which program or step failed and why.</summary>
public sealed class PostgresControlException : Exception
{
    public PostgresControlException(string message) : base(message) { }
    public PostgresControlException(string message, Exception inner) : base(message, inner) { }
    public PostgresControlException() { }
}

/// <summary>
/// Runs PostgreSQL's programs (initdb, pg_ctl, pg_basebackup, pg_rewind, postgres --single) as the run-as user. Arguments never
/// carry secrets: passwords reach the programs through 0600 files named in the environment.
/// </summary>
sealed class PgCommand(string binDir, OsUser user)
{
    const int MaxOutput = 16 * 1024;

    public async Task<CommandResult> RunAsync(string program, IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string>? env, TimeSpan timeout, CancellationToken ct)
    {
        string path = Path.Combine(binDir, program);
        var (exe, argv) = user.Wrap(path, args);
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // The agent's cwd (often /root) may not be enterable by the run-as user; initdb and pg_ctl complain.
            WorkingDirectory = "/",
        };
        foreach (var a in argv) psi.ArgumentList.Add(a);
        if (user.SwitchFromRoot)
        {
            psi.Environment["HOME"] = user.Home;
            psi.Environment["USER"] = user.Name;
            psi.Environment["LOGNAME"] = user.Name;
        }
        // Nothing from the agent's own libpq environment leaks into the programs.
        foreach (var k in new[] { "PGPASSWORD", "PGPASSFILE", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE" })
            psi.Environment.Remove(k);
        psi.Environment["LC_ALL"] = "C.UTF-8";
        if (env is not null) foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;

        var output = new StringBuilder();
        void Append(string? line)
        {
            if (line is null) return;
            lock (output)
            {
                output.Append(line).Append('\n');
                if (output.Length > MaxOutput) output.Remove(0, output.Length - MaxOutput);
            }
        }

        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => Append(e.Data);
        p.ErrorDataReceived += (_, e) => Append(e.Data);
        if (!p.Start()) throw new PostgresControlException($"could not start {program}");
        p.StandardInput.Close();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await p.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            throw new TimeoutException($"{program} did not finish within {timeout.TotalSeconds:0}s: {Tail(output)}");
        }
        return new CommandResult(program, p.ExitCode, Tail(output));
    }

    static string Tail(StringBuilder sb)
    {
        lock (sb) return sb.ToString();
    }
}
