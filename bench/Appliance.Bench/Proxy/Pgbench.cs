using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Appliance.Bench.Proxy;

/// <summary>One pgbench configuration of the benchmark: the built-in script, the clients, and whether every transaction opens a new connection (<c>-C</c>).</summary>
public sealed record Workload(string Name, bool SelectOnly, int Clients, bool Reconnect)
{
    // Threads: 2 (the cores), but never more than the clients.
    public int Threads => Math.Min(2, Clients);
}

/// <summary>What one pgbench run said: its summary lines, and p99 from its sampled per-transaction log.</summary>
/// <remarks><see cref="ConnectMs"/>: pgbench's "average connection time" of a <c>-C</c> run, null otherwise.</remarks>
public sealed record PgbenchResult(double Tps, double AverageLatencyMs, double? P99LatencyMs, long Transactions, long Failed, double? ConnectMs);

/// <summary>
/// Where pgbench connects: a host and port, from the host's own network or from inside a network
/// namespace (<c>ip netns exec</c>, so a lab's client talks to its addresses directly, with no
/// forward in between), with the password when the server asks for one.
/// </summary>
public sealed record PgbenchEndpoint(string Host, int Port, string? Netns = null, string? Password = null)
{
    public static PgbenchEndpoint Loopback(int port) => new("127.0.0.1", port);
}

/// <summary>Runs Debian's pgbench (PostgreSQL 15) against an endpoint (127.0.0.1:port by default) and reads its output.</summary>
public static partial class Pgbench
{
    /// <summary>
    /// Share of transactions written to the per-transaction log (<c>-l --sampling-rate</c>) for the
    /// fast <c>-S</c> runs: thousands of samples per run, enough for a p99, while the log writing stays
    /// a small cost, the same for every target. The slower workloads (TPC-B, <c>-C</c>) log every transaction.
    /// </summary>
    public const double SamplingRate = 0.1;

    static double SamplingFor(Workload w) => w.SelectOnly && !w.Reconnect ? SamplingRate : 1.0;

    /// <summary><c>pgbench -i -s <paramref name="scale"/></c> (quiet), which must succeed.</summary>
    public static Task InitAsync(int port, int scale, CancellationToken ct) => InitAsync(PgbenchEndpoint.Loopback(port), scale, ct);

    /// <summary><c>pgbench -i -s <paramref name="scale"/></c> (quiet) against <paramref name="at"/>, which must succeed.</summary>
    public static async Task InitAsync(PgbenchEndpoint at, int scale, CancellationToken ct)
    {
        var (code, output) = await RunAsync(at, ["-i", "-q", "-s", scale.ToString(CultureInfo.InvariantCulture), .. Connection(at)], TimeSpan.FromMinutes(5), ct);
        if (code != 0) throw new InvalidOperationException($"pgbench -i exited {code}:\n{output}");
    }

    /// <summary>One timed run; null (and why) when pgbench failed or its summary is missing.</summary>
    public static Task<(PgbenchResult? Result, string Failure)> RunAsync(int port, Workload w, int seconds, string logDir, CancellationToken ct)
        => RunAsync(PgbenchEndpoint.Loopback(port), w, seconds, logDir, ct);

    /// <summary>One timed run against <paramref name="at"/>; null (and why) when pgbench failed or its summary is missing.</summary>
    public static async Task<(PgbenchResult? Result, string Failure)> RunAsync(PgbenchEndpoint at, Workload w, int seconds, string logDir, CancellationToken ct)
    {
        Directory.CreateDirectory(logDir);
        var args = new List<string>
        {
            "-c", w.Clients.ToString(CultureInfo.InvariantCulture), "-j", w.Threads.ToString(CultureInfo.InvariantCulture),
            "-T", seconds.ToString(CultureInfo.InvariantCulture),
            "-l", "--sampling-rate", SamplingFor(w).ToString(CultureInfo.InvariantCulture), "--log-prefix", Path.Combine(logDir, "tx"),
        };
        // -S needs no vacuum (it writes nothing); TPC-B keeps pgbench's default vacuum, which truncates
        // pgbench_history so every round starts from the same table sizes.
        if (w.SelectOnly) args.AddRange(["-S", "-n"]);
        if (w.Reconnect) args.Add("-C");
        args.AddRange(Connection(at));
        try
        {
            var (code, output) = await RunAsync(at, args, TimeSpan.FromSeconds(seconds + 120), ct);
            if (code != 0) return (null, $"pgbench exited {code}: {Tail(output)}");
            var tps = Number(TpsLine(), output);
            var latency = Number(LatencyLine(), output);
            var processed = Number(ProcessedLine(), output);
            var failed = Number(FailedLine(), output) ?? 0;
            if (tps is null || latency is null || processed is null) return (null, $"no summary in pgbench's output: {Tail(output)}");
            var connect = w.Reconnect ? Number(ConnectLine(), output) : null;
            return (new PgbenchResult(tps.Value, latency.Value, P99(logDir), (long)processed.Value, (long)failed, connect), "");
        }
        finally
        {
            try { Directory.Delete(logDir, recursive: true); } catch (IOException) { }
        }
    }

    static string[] Connection(PgbenchEndpoint at) => ["-h", at.Host, "-p", at.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "postgres"];

    /// <summary>
    /// p99 of the latencies in the sampled log: its third field is the transaction's elapsed time in
    /// microseconds (pgbench's "client_id transaction_no time script_no time_epoch time_us").
    /// </summary>
    static double? P99(string logDir)
    {
        var micros = new List<long>();
        foreach (var file in Directory.EnumerateFiles(logDir, "tx.*"))
        foreach (var line in File.ReadLines(file))
        {
            var f = line.Split(' ');
            if (f.Length > 2 && long.TryParse(f[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var us)) micros.Add(us);
        }
        if (micros.Count < 100) return null;
        micros.Sort();
        return micros[(int)Math.Ceiling(0.99 * micros.Count) - 1] / 1000.0;
    }

    static async Task<(int Code, string Output)> RunAsync(PgbenchEndpoint at, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct)
    {
        // ip netns exec replaces itself with pgbench: the PID below is pgbench's either way.
        var psi = new ProcessStartInfo(at.Netns is null ? "pgbench" : "ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (at.Netns is not null) foreach (var a in new[] { "netns", "exec", at.Netns, "pgbench" }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Only the command line says where to connect.
        foreach (var k in new[] { "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE", "PGSSLMODE", "PGOPTIONS", "PGPASSWORD", "PGPASSFILE" }) psi.Environment.Remove(k);
        if (at.Password is not null) psi.Environment["PGPASSWORD"] = at.Password;
        psi.Environment["PGCONNECT_TIMEOUT"] = "10";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start pgbench");
        var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or a run that hangs (a proxy that stopped forwarding): end our pgbench, by its PID.
            p.Kill();
            await p.WaitForExitAsync(CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            return (-1, $"pgbench did not finish within {timeout.TotalSeconds:0} s\n{await stdout}{await stderr}");
        }
        return (p.ExitCode, await stdout + await stderr);
    }

    static double? Number(Regex r, string output)
        => r.Match(output) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    static string Tail(string s) => string.Join('\n', s.Split('\n').TakeLast(8));

    [GeneratedRegex(@"^tps = ([0-9.]+)", RegexOptions.Multiline)]
    private static partial Regex TpsLine();

    [GeneratedRegex(@"^latency average = ([0-9.]+) ms", RegexOptions.Multiline)]
    private static partial Regex LatencyLine();

    [GeneratedRegex(@"^number of transactions actually processed: ([0-9]+)", RegexOptions.Multiline)]
    private static partial Regex ProcessedLine();

    // With -C each pgbench thread opens its clients' connections one at a time (a blocking connect),
    // so this time, not the proxy's forwarding, sets the TPS: about threads / connection time.
    [GeneratedRegex(@"^average connection time = ([0-9.]+) ms", RegexOptions.Multiline)]
    private static partial Regex ConnectLine();

    [GeneratedRegex(@"^number of failed transactions: ([0-9]+)", RegexOptions.Multiline)]
    private static partial Regex FailedLine();
}
