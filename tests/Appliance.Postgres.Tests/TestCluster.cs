using System.Collections.Concurrent;
using Appliance.Configuration;
using Appliance.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Appliance.Postgres.Tests;

/// <summary>Everything the controller logged, for asserting that no secret ever reaches a log.</summary>
public sealed class ListLogger : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Lines.Enqueue($"{logLevel} {eventId.Name} {formatter(state, exception)} {exception}");

    public string All => string.Join('\n', Lines);
}

/// <summary>
/// One PostgreSQL node of a test: a data directory under a <see cref="Appliance.TestKit.TempDir"/>, its
/// controller and a logger. Dispose stops the postmaster it finds in postmaster.pid (by PID), even
/// when the test failed half-way.
/// </summary>
public sealed class TestNode : IAsyncDisposable
{
    public const string SuperPassword = "Sup3r'pa\\ss:word \"$$ x";
    public const string ReplPassword = "R3pl'pa\\ss:word $x$";

    public string Name { get; }
    public PostgresqlSection Pg { get; }
    public PostgresController Controller { get; }
    public ListLogger Log { get; } = new();

    public TestNode(string parentDir, string name, bool passwords = true)
    {
        Name = name;
        Pg = new PostgresqlSection
        {
            DataDir = Path.Combine(parentDir, name),
            Listen = "127.0.0.1",
            Port = Appliance.TestKit.FreePorts.Next(),
            Superuser = new Credentials { Username = "postgres", Password = passwords ? SuperPassword : null },
            Replication = new Credentials { Username = "replicator", Password = passwords ? ReplPassword : null },
            Parameters = new Dictionary<string, string> { ["shared_buffers"] = "16MB", ["max_connections"] = "30" },
        };
        Controller = new PostgresController(Pg, name, TimeProvider.System, Log);
    }

    public NpgsqlDataSource DataSource() => NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder
    {
        Host = Pg.Superuser.Password is null ? Controller.RunDir : "127.0.0.1",
        Port = Pg.Port,
        Username = "postgres",
        Password = Pg.Superuser.Password,
        Database = "postgres",
        Pooling = false,
        Timeout = 5,
    }.ConnectionString);

    public async Task<T?> ScalarAsync<T>(string sql)
    {
        await using var ds = DataSource();
        await using var cmd = ds.CreateCommand(sql);
        var v = await cmd.ExecuteScalarAsync();
        return v is DBNull or null ? default : (T)v;
    }

    public async Task ExecAsync(string sql)
    {
        await using var ds = DataSource();
        await using var cmd = ds.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    public string ReadDataFile(string name) => File.ReadAllText(Path.Combine(Pg.DataDir, name));

    /// <summary>
    /// A crash: SIGKILL to the postmaster, then waits until none of its processes is left (the children
    /// notice the postmaster's death and exit; one still attached to the shared memory would make the
    /// next start refuse).
    /// </summary>
    public async Task KillPostmasterAsync(TimeSpan deadline)
    {
        int pid = int.Parse(File.ReadLines(Path.Combine(Pg.DataDir, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, Tmds.Linux.LibC.kill(pid, Tmds.Linux.LibC.SIGKILL));
        await Appliance.TestKit.Wait.UntilAsync($"no process of {Name} is left", () => !ProcessesInDataDir().Any(), deadline);
    }

    /// <summary>Live processes whose working directory is this data directory (every PostgreSQL process chdirs there).</summary>
    public IEnumerable<int> ProcessesInDataDir()
    {
        string dir = Path.GetFullPath(Pg.DataDir);
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out int pid)) continue;
            string? cwd;
            try { cwd = new FileInfo(Path.Combine(proc, "cwd")).LinkTarget; }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            if (cwd == dir) yield return pid;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Controller.StopAsync(immediate: true, TimeSpan.FromSeconds(10), CancellationToken.None);
        }
        catch (Exception)
        {
            // Last resort by PID, so no postmaster outlives the test.
            string pidFile = Path.Combine(Pg.DataDir, "postmaster.pid");
            if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out int pid))
            {
                try { System.Diagnostics.Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
            }
        }
        Controller.Dispose();
    }
}

/// <summary>
/// Samples every process's command line (/proc/*/cmdline) until disposed and remembers any that holds one
/// of the given secrets: a password passed as an argument would show in ps to every local user.
/// </summary>
public sealed class CommandLineWatch : IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;
    readonly string[] _secrets;

    public ConcurrentBag<string> Leaks { get; } = new();
    /// <summary>How many command lines were read: proof the watch was looking.</summary>
    public int Seen { get; private set; }

    public CommandLineWatch(params string[] secrets)
    {
        _secrets = secrets;
        _loop = Task.Run(LoopAsync);
    }

    async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            foreach (var proc in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(proc), out _)) continue;
                string cmdline;
                try { cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' '); }
                catch (IOException) { continue; }
                catch (UnauthorizedAccessException) { continue; }
                Seen++;
                foreach (var secret in _secrets)
                    if (cmdline.Contains(secret, StringComparison.Ordinal)) Leaks.Add(cmdline);
            }
            // A sampler, not a wait on a condition: it yields the core between passes.
            try { await Task.Delay(5, _stop.Token); } catch (OperationCanceledException) { }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
