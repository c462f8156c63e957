using System.Diagnostics;
using Appliance.TestKit;
using Npgsql;

namespace Appliance.Proxy.Tests.Sessions;

/// <summary>
/// A throw-away PostgreSQL 15 on 127.0.0.1 (trust auth, TLS with the snakeoil certificate), run as user
/// postgres when the tests run as root. Dispose stops it (immediate) and removes its directory, also after
/// a failed test; the postmaster's PID from postmaster.pid is the last resort.
/// </summary>
#pragma warning disable CA1001 // the directory is removed in IAsyncLifetime.DisposeAsync
public sealed class TestPostgres : IAsyncLifetime
{
    const string Bin = "/usr/lib/postgresql/15/bin";
    readonly TempDir _dir = new("appl-proxy-pg");
    string DataDir => _dir.Sub("data");

    public int Port { get; } = FreePorts.Next();

    public string ConnectionString(int port, string extra = "") =>
        $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=10;Command Timeout=60;{extra}";

    public NpgsqlConnection Direct() => new(ConnectionString(Port));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataDir);
        if (Environment.IsPrivilegedProcess) await RunAsync("chown", "postgres:postgres", DataDir);
        await RunAsPostgresAsync($"{Bin}/initdb", "-D", DataDir, "-A", "trust", "-U", "postgres", "--no-sync");
        var options = $"-p {Port} -k {DataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50 " +
            "-c ssl=on -c ssl_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem -c ssl_key_file=/etc/ssl/private/ssl-cert-snakeoil.key";
        await RunAsPostgresAsync($"{Bin}/pg_ctl", "-D", DataDir, "-l", Path.Combine(DataDir, "log"), "-o", options, "-w", "-t", "60", "start");
    }

    public async Task DisposeAsync()
    {
        try
        {
            await RunAsPostgresAsync($"{Bin}/pg_ctl", "-D", DataDir, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            string pidFile = Path.Combine(DataDir, "postmaster.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out int pid))
                try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
        _dir.Dispose();
    }

    static Task RunAsPostgresAsync(string file, params string[] args)
        => Environment.IsPrivilegedProcess ? RunAsync("runuser", ["-u", "postgres", "--", file, .. args]) : RunAsync(file, args);

    static async Task RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await p.WaitForExitAsync(timeout.Token);
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await stdout} {await stderr}");
    }
}

#pragma warning restore CA1001

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<TestPostgres>
{
    public const string Name = "proxy-postgres";
}
