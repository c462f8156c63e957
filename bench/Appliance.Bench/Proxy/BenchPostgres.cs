using System.Diagnostics;
using Appliance.Lab;
using Appliance.Postgres;
using Npgsql;
using Tmds.Linux;

namespace Appliance.Bench.Proxy;

/// <summary>
/// A throw-away PostgreSQL 15 for the proxy benchmark: initdb into a folder of the benchmark's temp
/// folder, trust on 127.0.0.1, run in the foreground as a child process (as the postgres user through
/// setpriv when we are root, as the agent does), stopped by its PID.
/// </summary>
public sealed class BenchPostgres : IAsyncDisposable
{
    const string BinDir = "/usr/lib/postgresql/15/bin";
    readonly ChildProcess _process;

    public int Port { get; }
    public string DataDir { get; }
    public int Pid => _process.Pid;

    BenchPostgres(int port, string dataDir, ChildProcess process)
    {
        Port = port;
        DataDir = dataDir;
        _process = process;
    }

    /// <summary>A connection string for <paramref name="port"/> (PostgreSQL or a proxy in front of it); no pooling, so every open is a new session.</summary>
    public static string ConnectionString(int port) => $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=3;Command Timeout=5";

    public static async Task<BenchPostgres> StartAsync(string root, int port, CancellationToken ct)
    {
        var user = OsUser.Resolve("postgres");
        var data = Path.Combine(root, "pgdata");
        Directory.CreateDirectory(data);
        File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        user.Own(data);
        await RunAsAsync(user, "initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"], ct);

        // The settings that keep the disk and the server's own limits out of a proxy comparison:
        // synchronous_commit off (TPC-B would otherwise measure this VM's fsync, the same for every
        // target), shared_buffers holding the whole scale-10 database (~160 MB), connections for 32
        // clients plus the proxies' checks.
        await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), $"""

            # appliance-bench proxy
            listen_addresses = '127.0.0.1'
            port = {port}
            unix_socket_directories = '{data}'
            max_connections = 100
            shared_buffers = '256MB'
            synchronous_commit = off
            log_min_messages = warning
            """, ct);
        await File.WriteAllTextAsync(Path.Combine(data, "pg_hba.conf"), """
            local all all trust
            host all all 127.0.0.1/32 trust
            """, ct);

        var (program, args) = user.Wrap(Path.Combine(BinDir, "postgres"), ["-D", data]);
        var process = ChildProcess.Start("postgres", program, args, Path.Combine(root, "postgres.log"));
        var pg = new BenchPostgres(port, data, process);
        try
        {
            if (!await SelectOneAsync(port, TimeSpan.FromSeconds(30), () => process.HasExited, ct))
                throw new InvalidOperationException($"PostgreSQL did not accept connections within 30 s:\n{process.LogTail()}");
            return pg;
        }
        catch
        {
            await pg.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until <c>select 1</c> through <paramref name="port"/> answers; false past <paramref name="deadline"/> or once <paramref name="gone"/> says the server process died.</summary>
    public static async Task<bool> SelectOneAsync(int port, TimeSpan deadline, Func<bool> gone, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < deadline && !gone())
        {
            try
            {
                await using var c = new NpgsqlConnection(ConnectionString(port));
                await c.OpenAsync(ct);
                await using var cmd = new NpgsqlCommand("select 1", c);
                if (await cmd.ExecuteScalarAsync(ct) is 1) return true;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException or InvalidOperationException) { }
            await Task.Delay(100, ct);
        }
        return false;
    }

    // initdb's cwd must be enterable by the postgres user; ours may not be.
    static async Task RunAsAsync(OsUser user, string program, IReadOnlyList<string> args, CancellationToken ct)
    {
        var (exe, argv) = user.Wrap(Path.Combine(BinDir, program), args);
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/" };
        foreach (var a in argv) psi.ArgumentList.Add(a);
        psi.Environment["LC_ALL"] = "C.UTF-8";
        if (user.SwitchFromRoot)
        {
            psi.Environment["HOME"] = user.Home;
            psi.Environment["USER"] = user.Name;
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {program}");
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} exited {p.ExitCode}: {await stderr}{await stdout}");
    }

    public string LogTail(int lines = 20) => _process.LogTail(lines);

    /// <summary>Fast shutdown (SIGINT: clients are cut, no waiting for them), then what <see cref="ChildProcess"/> does.</summary>
    public async ValueTask DisposeAsync()
    {
        _process.Signal(LibC.SIGINT);
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        await _process.DisposeAsync();
    }
}
