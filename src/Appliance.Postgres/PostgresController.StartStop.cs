using System.Globalization;
using System.Text;
using Appliance.Configuration;
using Appliance.Node;
using Npgsql;

namespace Appliance.Postgres;

/// <summary>Starting and stopping the postmaster, bounded in time.</summary>
public sealed partial class PostgresController
{
    public Task StartAsync(Upstream? upstream, TimeSpan timeout, CancellationToken ct)
        => StartAsync(upstream, standby: upstream is not null, timeout, ct);

    public Task StartAsStandbyAsync(Upstream? upstream, TimeSpan timeout, CancellationToken ct)
        => StartAsync(upstream, standby: true, timeout, ct);

    async Task StartAsync(Upstream? upstream, bool standby, TimeSpan timeout, CancellationToken ct)
    {
        if (!File.Exists(Path.Combine(DataDir, "PG_VERSION")))
            throw new PostgresControlException($"cannot start: {DataDir} holds no cluster (no PG_VERSION)");
        RefuseWhenRunning("start");
        RemoveStaleLocks();
        WriteManagedFiles(upstream, standby);
        EnsureLogFile();
        Log.Starting(_log, !standby ? "primary" : upstream is null ? "standby (no upstream yet)" : $"standby of {upstream.Name} ({upstream.Host}:{upstream.Port})", LogFile);

        var started = _time.GetTimestamp();
        // -W: pg_ctl returns at once; readiness is ours to judge (below). pg_ctl starts the postmaster in
        // its own session (setsid) with stdio on the log file, so it outlives the agent.
        var result = await _cmd.RunAsync("pg_ctl", ["start", "-D", DataDir, "-l", LogFile, "-W", "-s"], null,
            TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
        Log.Command(_log, "pg_ctl start", result.ExitCode);
        if (!result.Succeeded)
            throw new PostgresControlException($"pg_ctl start exited with {result.ExitCode}: {result.Output.Trim()}\n{LogTail()}");

        int? seenPid = null;
        while (true)
        {
            int? pid = Postmaster.ReadPid(DataDir);
            if (pid is not null) seenPid = pid;
            if (seenPid is int sp && !Postmaster.IsAlive(sp))
                throw new PostgresControlException($"postmaster {sp} exited during start-up:\n{LogTail()}");
            // A postmaster writes postmaster.pid within milliseconds; one that never did has already exited.
            if (seenPid is null && _time.GetElapsedTime(started) > StartupGrace)
                throw new PostgresControlException($"the postmaster exited during start-up:\n{LogTail()}");
            if (await AcceptsAsync(ct).ConfigureAwait(false))
            {
                Log.Started(_log, seenPid ?? Postmaster.ReadPid(DataDir) ?? 0);
                return;
            }
            if (_time.GetElapsedTime(started) >= timeout)
                throw new TimeoutException($"PostgreSQL did not accept connections within {timeout.TotalSeconds:0}s:\n{LogTail()}");
            await Task.Delay(PollInterval, _time, ct).ConfigureAwait(false);
        }
    }

    async Task<bool> AcceptsAsync(CancellationToken ct)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(ProbeTimeout);
            await using var conn = await _db.OpenConnectionAsync(cts.Token).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand("SELECT 1", conn);
            await cmd.ExecuteScalarAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    public async Task StopAsync(bool immediate, TimeSpan escalateAfter, CancellationToken ct)
    {
        int? found = Postmaster.LivePid(DataDir);
        if (found is not int pid) return;

        // SIGINT = fast shutdown (abort sessions, checkpoint), SIGQUIT = immediate (no checkpoint,
        // crash recovery at the next start). See "Shutting Down the Server" in the PostgreSQL manual.
        Log.Stopping(_log, immediate ? "immediate" : "fast", pid);
        Postmaster.Signal(pid, immediate ? Tmds.Linux.LibC.SIGQUIT : Tmds.Linux.LibC.SIGINT);
        if (await GoneWithinAsync(pid, escalateAfter, ct).ConfigureAwait(false)) { Log.Stopped(_log, pid); return; }

        if (!immediate)
        {
            Log.Escalating(_log, pid, escalateAfter);
            Postmaster.Signal(pid, Tmds.Linux.LibC.SIGQUIT);
            if (await GoneWithinAsync(pid, escalateAfter, ct).ConfigureAwait(false)) { Log.Stopped(_log, pid); return; }
        }

        // Last resort, so the call stays bounded: the children notice the postmaster's death and exit.
        Log.Killing(_log, pid);
        Postmaster.Signal(pid, Tmds.Linux.LibC.SIGKILL);
        if (await GoneWithinAsync(pid, TimeSpan.FromSeconds(10), ct).ConfigureAwait(false)) { Log.Stopped(_log, pid); return; }
        throw new PostgresControlException($"postmaster {pid} survived SIGKILL");
    }

    async Task<bool> GoneWithinAsync(int pid, TimeSpan limit, CancellationToken ct)
    {
        var start = _time.GetTimestamp();
        while (Postmaster.IsPostmasterOf(pid, DataDir))
        {
            if (_time.GetElapsedTime(start) >= limit) return false;
            await Task.Delay(PollInterval, _time, ct).ConfigureAwait(false);
        }
        return true;
    }
}
