using System.Collections.Immutable;
using Appliance.Ha;
using Appliance.Node;
using Appliance.Simulator.Clock;

using Appliance.Simulator.World;

namespace Appliance.Simulator.Models;

/// <summary>One WAL record: unique in the whole run, so two nodes holding the same record at the same position share their history up to it.</summary>
public readonly record struct WalRecord(long Id, long Timeline, long TxId);

/// <summary>What survives a crash: the data directory.</summary>
public sealed class SimDataDir
{
    public required string SystemId { get; init; }
    public List<WalRecord> Wal { get; set; } = [];
    public bool StandbySignal { get; set; }
    public Upstream? Upstream { get; set; }
    public string SynchronousStandbyNames { get; set; } = "";
    public long Timeline => Wal.Count == 0 ? 1 : Wal[^1].Timeline;
}

/// <summary>
/// PostgreSQL 15 as the HA code sees it: a data directory with a WAL of unique records, a postmaster that
/// runs as primary or standby, streaming (a standby copies its upstream's WAL only while its own is a prefix
/// of it), synchronous commit (a commit is acknowledged only once the standbys that
/// <c>synchronous_standby_names</c> requires have flushed it), promote (a new timeline), fast and immediate
/// stop, crash, freeze (SIGSTOP: nothing answers, SIGKILL still works), rewind and clone.
/// </summary>
public sealed class SimPostgres(SimWorld world, string name, string host) : IPostgresController
{
    public const long RecordBytes = 16 * 1024;
    const long LsnBase = 0x3000000;

    enum Proc { Stopped, Starting, Running }

    Proc _proc;
    readonly List<(int Index, long TxId, TaskCompletionSource<bool> Ack)> _waiting = [];

    public string Name { get; } = name;
    public string Host { get; } = host;
    public SimDataDir? Data { get; private set; }
    public bool Frozen { get; set; }
    /// <summary>A slow disk: every operation takes ten times as long.</summary>
    public bool SlowDisk { get; set; }
    public bool Streaming { get; private set; }
    public int PostmasterPid { get; private set; }

    public bool Running => _proc == Proc.Running;
    public bool Accepting => _proc == Proc.Running && !Frozen;
    public bool IsPrimary => Accepting && Data is { StandbySignal: false };
    public bool IsStandby => Accepting && Data is { StandbySignal: true };
    public long Timeline => Data?.Timeline ?? 0;
    public static long Lsn(int records) => LsnBase + records * RecordBytes;

    TimeProvider Time => world.Loop.Time;

    // ---- the world's side: crashes, commits, streaming ------------------------------------------

    /// <summary>The host lost power or the postmaster was killed: nothing stops cleanly, waiting commits fail.</summary>
    public void Crash()
    {
        _proc = Proc.Stopped;
        Frozen = false;
        Streaming = false;
        FailWaiting();
    }

    /// <summary>A client's commit: appended to the WAL, acknowledged when synchronous replication allows. Null when not a primary.</summary>
    public Task<bool>? Commit(long txId)
    {
        if (!IsPrimary) return null;
        Append(txId);
        var ack = new TaskCompletionSource<bool>();
        _waiting.Add((Data!.Wal.Count, txId, ack));
        ReleaseCommits();
        return ack.Task;
    }

    /// <summary>Whether this primary could acknowledge a commit now (no synchronous standby required, or enough of them stream).</summary>
    public bool CanAcknowledge => IsPrimary && RequiredFlush() is not null;

    /// <summary>One replication step (called by the world every few milliseconds).</summary>
    public void Replicate()
    {
        if (!Accepting || Data is not { StandbySignal: true } d) { Streaming = false; ReleaseCommits(); return; }
        Streaming = false;
        if (d.Upstream is not { } up || world.Postgres(up.Name) is not { Accepting: true, Data: { } src } source
            || source == this || !world.Network.Connected(Host, source.Host) || src.SystemId != d.SystemId)
            return;
        if (!IsPrefix(d.Wal, src.Wal)) return;
        Streaming = true;
        if (src.Wal.Count > d.Wal.Count) d.Wal = [.. src.Wal];
    }

    void ReleaseCommits()
    {
        if (_waiting.Count == 0) return;
        if (!IsPrimary) return; // a frozen primary releases nothing; a stopped one failed them already
        var flushed = RequiredFlush();
        if (flushed is not int upTo) return;
        for (int i = _waiting.Count - 1; i >= 0; i--)
        {
            if (_waiting[i].Index > upTo) continue;
            var w = _waiting[i];
            _waiting.RemoveAt(i);
            world.Acknowledged(this, w.TxId);
            w.Ack.TrySetResult(true);
        }
    }

    /// <summary>How far every commit the setting waits for is flushed (records), or null when the required standbys are not there.</summary>
    int? RequiredFlush()
    {
        var ssn = Data?.SynchronousStandbyNames ?? "";
        if (ssn.Length == 0) return int.MaxValue;
        var names = SyncPlanner.ParseStandbyNames(ssn);
        // "N (a,b)" waits for N standbys; a single name or '*' for one.
        var head = ssn.TrimStart().Split(' ')[0];
        int count = int.TryParse(head, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 1;
        var flushes = StandbysOfMine()
            .Where(s => names.Contains("*") || names.Contains(s.Name))
            .OrderBy(s => Priority(names, ssn, s.Name))
            .Take(count)
            .Select(s => s.Data!.Wal.Count)
            .ToList();
        return flushes.Count < count ? null : flushes.Min();
    }

    static int Priority(ImmutableHashSet<string> names, string ssn, string name)
        => names.Contains("*") ? 0 : ssn.IndexOf(name, StringComparison.OrdinalIgnoreCase);

    IEnumerable<SimPostgres> StandbysOfMine() => world.AllPostgres.Where(s => s != this && s.Streaming
        && s.Data?.Upstream?.Name == Name && world.Network.Connected(Host, s.Host));

    void FailWaiting()
    {
        foreach (var w in _waiting) w.Ack.TrySetResult(false);
        _waiting.Clear();
    }

    void Append(long txId) => Data!.Wal.Add(new WalRecord(world.NextRecordId(), Data.Timeline, txId));

    static bool IsPrefix(List<WalRecord> mine, List<WalRecord> theirs)
        => mine.Count == 0 || (mine.Count <= theirs.Count && theirs[mine.Count - 1].Id == mine[^1].Id);

    static int CommonPrefix(List<WalRecord> a, List<WalRecord> b)
    {
        int n = Math.Min(a.Count, b.Count);
        int i = 0;
        while (i < n && a[i].Id == b[i].Id) i++;
        return i;
    }

    /// <summary>The wait of an operation, ten times longer on a slow disk, and held while the postmaster is frozen.</summary>
    async Task WorkAsync(TimeSpan d, CancellationToken ct)
    {
        await Task.Delay(SlowDisk ? d * 10 : d, Time, ct);
        while (Frozen) await Task.Delay(TimeSpan.FromMilliseconds(100), Time, ct);
    }

    SimPostgres Source(string host, int port)
        => world.AllPostgres.FirstOrDefault(p => p.Host == host) ?? throw new InvalidOperationException($"no server at {host}:{port}");

    int NewPid() => PostmasterPid = world.NextPid();

    // ---- IPostgresController --------------------------------------------------------------------

    public async Task<PostgresState> ProbeAsync(CancellationToken ct)
    {
        if (Running && Frozen)
        {
            // The connection attempt hangs: the probe gives up after its timeout (3 s in the real controller).
            try { await Task.Delay(TimeSpan.FromSeconds(3), Time, ct); } catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
        }
        else await Task.Delay(TimeSpan.FromMilliseconds(2), Time, ct);
        var d = Data;
        var accepting = Accepting;
        bool? inRecovery = accepting ? d!.StandbySignal : null;
        return new PostgresState
        {
            DataDirInitialized = d is not null,
            StandbyConfigured = d?.StandbySignal ?? false,
            PostmasterRunning = _proc != Proc.Stopped,
            PostmasterPid = _proc != Proc.Stopped ? PostmasterPid : null,
            Accepting = accepting,
            InRecovery = inRecovery,
            Timeline = d is null ? null : d.Timeline,
            WalPosition = d is null ? null : Lsn(d.Wal.Count),
            ReceiveLsn = inRecovery == true ? Lsn(d!.Wal.Count) : null,
            ReplayLsn = inRecovery == true ? Lsn(d!.Wal.Count) : null,
            SystemId = d?.SystemId,
            ServerVersion = 150018,
            Streaming = accepting && Streaming,
            UpstreamHostPort = d?.Upstream is { } u ? $"{u.Host}:{u.Port}" : null,
            SynchronousStandbyNames = accepting ? d!.SynchronousStandbyNames : null,
            Replication = inRecovery == false ? [.. ReplicationRows()] : [],
        };
    }

    IEnumerable<ReplicationRow> ReplicationRows()
    {
        var ssn = Data!.SynchronousStandbyNames;
        var names = SyncPlanner.ParseStandbyNames(ssn);
        foreach (var s in StandbysOfMine())
        {
            bool named = names.Contains("*") || names.Contains(s.Name);
            var flush = Lsn(s.Data!.Wal.Count);
            yield return new ReplicationRow("replicator", s.Name, s.Host, "streaming", named ? "sync" : "async",
                named ? Priority(names, ssn, s.Name) + 1 : 0, flush, flush);
        }
    }

    public async Task InitDbAsync(CancellationToken ct)
    {
        await WorkAsync(TimeSpan.FromMilliseconds(500), ct);
        if (Data is not null) throw new InvalidOperationException("initdb: the data directory is not empty");
        Data = new SimDataDir { SystemId = $"7{world.NextPid():D18}" };
        Append(0);
    }

    public Task CreateRolesAsync(CancellationToken ct) => WorkAsync(TimeSpan.FromMilliseconds(10), ct);

    public async Task CloneAsync(string sourceHost, int sourcePort, CancellationToken ct)
    {
        var source = Source(sourceHost, sourcePort);
        if (Data is not null) throw new InvalidOperationException("pg_basebackup: the data directory is not empty");
        await WorkAsync(TimeSpan.FromSeconds(1), ct);
        if (!source.Accepting || source.Data is null || !world.Network.Connected(Host, source.Host))
            throw new InvalidOperationException($"pg_basebackup: cannot reach {source.Name}");
        Data = new SimDataDir { SystemId = source.Data.SystemId, Wal = [.. source.Data.Wal], StandbySignal = true };
    }

    public Task WipeDataDirAsync(CancellationToken ct)
    {
        if (_proc != Proc.Stopped) throw new InvalidOperationException("wipe: PostgreSQL is running");
        Data = null;
        return Task.CompletedTask;
    }

    public Task<string?> SetAsideDataDirAsync(CancellationToken ct)
    {
        if (_proc != Proc.Stopped) throw new InvalidOperationException("set aside: PostgreSQL is running");
        var had = Data is not null;
        Data = null;
        return Task.FromResult<string?>(had ? $"/{Name}/data.diverged" : null);
    }

    public Task StartAsync(Upstream? upstream, TimeSpan timeout, CancellationToken ct) => StartCoreAsync(upstream is not null, upstream, timeout, ct);

    public Task StartAsStandbyAsync(Upstream? upstream, TimeSpan timeout, CancellationToken ct) => StartCoreAsync(true, upstream, timeout, ct);

    async Task StartCoreAsync(bool standby, Upstream? upstream, TimeSpan timeout, CancellationToken ct)
    {
        if (Data is not { } d) throw new InvalidOperationException("start: no data directory");
        if (_proc != Proc.Stopped) throw new InvalidOperationException("start: a postmaster is already running");
        d.StandbySignal = standby;
        d.Upstream = standby ? upstream : null;
        _proc = Proc.Starting;
        NewPid();
        using var limit = new CancellationTokenSource(timeout, Time);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, limit.Token);
        try
        {
            await WorkAsync(TimeSpan.FromMilliseconds(300), both.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new InvalidOperationException("PostgreSQL did not accept connections in time");
        }
        if (_proc == Proc.Starting) _proc = Proc.Running;
    }

    public Task ReloadAsync(CancellationToken ct) => WorkAsync(TimeSpan.FromMilliseconds(1), ct);

    public async Task CheckpointAsync(CancellationToken ct)
    {
        await WorkAsync(TimeSpan.FromMilliseconds(20), ct);
        if (IsPrimary) Append(0);
    }

    public async Task StopAsync(bool immediate, TimeSpan escalateAfter, CancellationToken ct)
    {
        if (_proc == Proc.Stopped) return;
        var pid = PostmasterPid;
        if (!immediate)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(SlowDisk ? 1000 : 100), Time, ct);
            if (pid != PostmasterPid || _proc == Proc.Stopped) return;
            if (!Frozen)
            {
                // The shutdown checkpoint, then the walsenders send everything to the standbys still connected.
                if (IsPrimary)
                {
                    Append(0);
                    foreach (var s in StandbysOfMine()) s.Data!.Wal = [.. Data!.Wal];
                }
                StopNow();
                return;
            }
            await Task.Delay(escalateAfter, Time, ct);
        }
        if (pid != PostmasterPid || _proc == Proc.Stopped) return;
        if (!Frozen)
        {
            StopNow();
            return;
        }
        // SIGQUIT waits in a stopped process; SIGKILL does not.
        await Task.Delay(escalateAfter, Time, ct);
        if (pid == PostmasterPid) StopNow();
    }

    void StopNow()
    {
        _proc = Proc.Stopped;
        Frozen = false;
        Streaming = false;
        FailWaiting();
    }

    public async Task FollowAsync(Upstream upstream, TimeSpan timeout, CancellationToken ct)
    {
        if (Data is not { } d) throw new InvalidOperationException("follow: no data directory");
        await WorkAsync(TimeSpan.FromMilliseconds(100), ct);
        if (!d.StandbySignal)
        {
            // A primary is restarted as a standby (the real controller does the same).
            StopNow();
            await StartCoreAsync(true, upstream, timeout, ct);
            return;
        }
        d.Upstream = upstream;
        Streaming = false;
    }

    public async Task<long> PromoteAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (!IsStandby) throw new InvalidOperationException("promote: not a running standby");
        await WorkAsync(TimeSpan.FromMilliseconds(200), ct);
        if (!IsStandby) throw new InvalidOperationException("promote: the server went away");
        var d = Data!;
        var tl = d.Timeline + 1;
        d.Wal.Add(new WalRecord(world.NextRecordId(), tl, 0));
        d.StandbySignal = false;
        d.Upstream = null;
        Streaming = false;
        world.Promoted(this, tl);
        return tl;
    }

    public async Task<RewindCheck> CheckDivergenceAsync(string sourceHost, int sourcePort, CancellationToken ct)
    {
        await WorkAsync(TimeSpan.FromMilliseconds(20), ct);
        var source = Source(sourceHost, sourcePort);
        if (Data is not { } d) return RewindCheck.Unknown("no data directory");
        if (source.Data is not { } s || !source.Accepting || !world.Network.Connected(Host, source.Host)) return RewindCheck.Unknown($"{source.Name} unreachable");
        return IsPrefix(d.Wal, s.Wal) ? RewindCheck.NotNeeded("a prefix of the source's history") : RewindCheck.Needed($"diverged at record {CommonPrefix(d.Wal, s.Wal)}");
    }

    public async Task RewindAsync(string sourceHost, int sourcePort, CancellationToken ct)
    {
        var source = Source(sourceHost, sourcePort);
        if (_proc != Proc.Stopped) throw new InvalidOperationException("pg_rewind: the server is running");
        await WorkAsync(TimeSpan.FromMilliseconds(500), ct);
        if (Data is not { } d || source.Data is not { } s || !source.Accepting || !world.Network.Connected(Host, source.Host))
            throw new InvalidOperationException($"pg_rewind: cannot reach {source.Name}");
        d.Wal = [.. s.Wal];
    }

    public async Task SetSynchronousStandbyNamesAsync(string value, CancellationToken ct)
    {
        if (Data is not { } d) throw new InvalidOperationException("no data directory");
        if (Running) await WorkAsync(TimeSpan.FromMilliseconds(1), ct);
        d.SynchronousStandbyNames = value;
        ReleaseCommits();
    }

    public Task<bool> ApplyDynamicParametersAsync(IReadOnlyDictionary<string, string> parameters, bool reload, CancellationToken ct) => Task.FromResult(false);

    public Task SyncReplicationSlotsAsync(IReadOnlyCollection<string> memberNames, CancellationToken ct) => Task.CompletedTask;
}
