using System.Diagnostics;

namespace Appliance.TestKit;

/// <summary>
/// A PostgreSQL 15 of its own on a free 127.0.0.1 port (trust auth, no fsync), run as user postgres when the
/// tests run as root, that a test can crash (immediate stop) and start again. Dispose stops it and removes its
/// folder, also after a failed test; the postmaster's PID from postmaster.pid is the last resort.
/// </summary>
public sealed class ThrowAwayPostgres : IAsyncDisposable
{
    const string Bin = "/usr/lib/postgresql/15/bin";
    readonly TempDir _dir = new("appl-pg");
    readonly string _settings;

    ThrowAwayPostgres(string settings) => _settings = settings;

    string DataDir => _dir.Sub("data");

    public int Port { get; } = FreePorts.Next();

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false;Timeout=5";

    /// <summary>initdb and start; <paramref name="settings"/> are more <c>-c name=value</c> server options (TLS, limits).</summary>
    public static async Task<ThrowAwayPostgres> StartAsync(string settings = "-c max_connections=30 -c shared_buffers=16MB")
    {
        var pg = new ThrowAwayPostgres(settings);
        try
        {
            Directory.CreateDirectory(pg.DataDir);
            if (Environment.IsPrivilegedProcess) await RunAsync("chown", "postgres:postgres", pg.DataDir);
            await RunAsPostgresAsync($"{Bin}/initdb", "-D", pg.DataDir, "-A", "trust", "-U", "postgres", "--no-sync");
            await pg.StartAgainAsync();
            return pg;
        }
        catch
        {
            await pg.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server on its data folder and waits until it accepts connections.</summary>
    public Task StartAgainAsync() => RunAsPostgresAsync($"{Bin}/pg_ctl", "-D", DataDir, "-l", Path.Combine(DataDir, "log"),
        "-o", $"-p {Port} -k {DataDir} -c listen_addresses=127.0.0.1 -c fsync=off {_settings}",
        "-w", "-t", "60", "start");

    /// <summary>A crash, as far as clients can tell: every backend dies at once, nothing is flushed or said.</summary>
    public Task CrashAsync() => RunAsPostgresAsync($"{Bin}/pg_ctl", "-D", DataDir, "-m", "immediate", "-w", "stop");

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (File.Exists(Path.Combine(DataDir, "postmaster.pid"))) await CrashAsync();
        }
        catch (InvalidOperationException)
        {
            var pidFile = Path.Combine(DataDir, "postmaster.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out int pid))
                try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
        _dir.Dispose();
    }

    static Task RunAsPostgresAsync(string file, params string[] args)
        => Environment.IsPrivilegedProcess ? RunAsync("runuser", ["-u", "postgres", "--", file, .. args]) : RunAsync(file, args);

    static async Task RunAsync(string file, params string[] args)
    {
        var result = await Cli.RunAsync(file, args);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {result.ExitCode}: {result.Output} {result.Errors}");
    }
}
