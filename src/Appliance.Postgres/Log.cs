using Microsoft.Extensions.Logging;

namespace Appliance.Postgres;

/// <summary>
/// The controller's log events. Precompiled delegates (Npgsql brings the logging abstractions but
/// not the [LoggerMessage] generator). No event carries a password or a connection string.
/// </summary>
static class Log
{
    static readonly Action<ILogger, string, Exception?> s_initDb =
        LoggerMessage.Define<string>(LogLevel.Information, new EventId(1, "InitDb"), "initdb into {DataDir}");
    static readonly Action<ILogger, string, string, Exception?> s_starting =
        LoggerMessage.Define<string, string>(LogLevel.Information, new EventId(2, "Starting"), "starting PostgreSQL as {Role} (log {LogFile})");
    static readonly Action<ILogger, int, Exception?> s_started =
        LoggerMessage.Define<int>(LogLevel.Information, new EventId(3, "Started"), "PostgreSQL accepts connections (postmaster {Pid})");
    static readonly Action<ILogger, string, int, Exception?> s_stopping =
        LoggerMessage.Define<string, int>(LogLevel.Information, new EventId(4, "Stopping"), "{Mode} shutdown of postmaster {Pid}");
    static readonly Action<ILogger, int, double, Exception?> s_escalating =
        LoggerMessage.Define<int, double>(LogLevel.Warning, new EventId(5, "Escalating"), "postmaster {Pid} still running after {Seconds:0.#}s: immediate shutdown");
    static readonly Action<ILogger, int, Exception?> s_killing =
        LoggerMessage.Define<int>(LogLevel.Error, new EventId(6, "Killing"), "postmaster {Pid} ignored the immediate shutdown: SIGKILL");
    static readonly Action<ILogger, int, Exception?> s_stopped =
        LoggerMessage.Define<int>(LogLevel.Information, new EventId(7, "Stopped"), "postmaster {Pid} has stopped");
    static readonly Action<ILogger, string, int, Exception?> s_cloning =
        LoggerMessage.Define<string, int>(LogLevel.Information, new EventId(8, "Cloning"), "pg_basebackup from {Host}:{Port}");
    static readonly Action<ILogger, Exception?> s_cloneFailed =
        LoggerMessage.Define(LogLevel.Warning, new EventId(9, "CloneFailed"), "clone failed; the partial data directory was emptied");
    static readonly Action<ILogger, Exception?> s_promoting =
        LoggerMessage.Define(LogLevel.Information, new EventId(10, "Promoting"), "promoting");
    static readonly Action<ILogger, long, Exception?> s_promoted =
        LoggerMessage.Define<long>(LogLevel.Information, new EventId(11, "Promoted"), "promoted: timeline {Timeline}");
    static readonly Action<ILogger, string, string, Exception?> s_following =
        LoggerMessage.Define<string, string>(LogLevel.Information, new EventId(12, "Following"), "following {Upstream} by {How}");
    static readonly Action<ILogger, string, string, Exception?> s_slot =
        LoggerMessage.Define<string, string>(LogLevel.Information, new EventId(13, "Slot"), "replication slot {Slot} {Change}");
    static readonly Action<ILogger, string, string, Exception?> s_role =
        LoggerMessage.Define<string, string>(LogLevel.Information, new EventId(14, "Role"), "role {Role}: {Change}");
    static readonly Action<ILogger, Exception?> s_probeFailed =
        LoggerMessage.Define(LogLevel.Debug, new EventId(15, "ProbeFailed"), "probe query failed");
    static readonly Action<ILogger, int?, Exception?> s_staleLock =
        LoggerMessage.Define<int?>(LogLevel.Warning, new EventId(16, "StaleLock"), "removed stale postmaster.pid (pid {Pid} is not a live postmaster)");
    static readonly Action<ILogger, string, int, Exception?> s_command =
        LoggerMessage.Define<string, int>(LogLevel.Debug, new EventId(17, "Command"), "{Program} exited with {ExitCode}");
    static readonly Action<ILogger, string, Exception?> s_wiped =
        LoggerMessage.Define<string>(LogLevel.Warning, new EventId(18, "Wiped"), "emptied data directory {DataDir}");
    static readonly Action<ILogger, string, string, Exception?> s_setAside =
        LoggerMessage.Define<string, string>(LogLevel.Warning, new EventId(19, "SetAside"), "moved the diverged data directory {DataDir} to {Aside}");
    static readonly Action<ILogger, string, int, string, string, Exception?> s_rewindCheck =
        LoggerMessage.Define<string, int, string, string>(LogLevel.Information, new EventId(20, "RewindCheck"), "divergence from {Host}:{Port}: {Verdict} ({Reason})");
    static readonly Action<ILogger, string, Exception?> s_crashRecovery =
        LoggerMessage.Define<string>(LogLevel.Warning, new EventId(21, "CrashRecovery"), "cluster state '{State}' is not a clean shutdown: crash recovery in single-user mode");
    static readonly Action<ILogger, string, int, Exception?> s_rewinding =
        LoggerMessage.Define<string, int>(LogLevel.Information, new EventId(22, "Rewinding"), "pg_rewind from {Host}:{Port}");
    static readonly Action<ILogger, string, int, Exception?> s_rewound =
        LoggerMessage.Define<string, int>(LogLevel.Information, new EventId(23, "Rewound"), "rewound onto the timeline of {Host}:{Port}");
    static readonly Action<ILogger, string, int, string, Exception?> s_rewindFailed =
        LoggerMessage.Define<string, int, string>(LogLevel.Warning, new EventId(24, "RewindFailed"), "pg_rewind from {Host}:{Port} failed: {Reason}");
    static readonly Action<ILogger, string, int, long, Exception?> s_sourceCheckpoint =
        LoggerMessage.Define<string, int, long>(LogLevel.Information, new EventId(25, "SourceCheckpoint"), "CHECKPOINT on {Host}:{Port} so that its pg_control shows timeline {Timeline}");

    public static void InitDb(ILogger l, string dataDir) => s_initDb(l, dataDir, null);
    public static void Starting(ILogger l, string role, string logFile) => s_starting(l, role, logFile, null);
    public static void Started(ILogger l, int pid) => s_started(l, pid, null);
    public static void Stopping(ILogger l, string mode, int pid) => s_stopping(l, mode, pid, null);
    public static void Escalating(ILogger l, int pid, TimeSpan after) => s_escalating(l, pid, after.TotalSeconds, null);
    public static void Killing(ILogger l, int pid) => s_killing(l, pid, null);
    public static void Stopped(ILogger l, int pid) => s_stopped(l, pid, null);
    public static void Cloning(ILogger l, string host, int port) => s_cloning(l, host, port, null);
    public static void CloneFailed(ILogger l, Exception e) => s_cloneFailed(l, e);
    public static void Promoting(ILogger l) => s_promoting(l, null);
    public static void Promoted(ILogger l, long timeline) => s_promoted(l, timeline, null);
    public static void Following(ILogger l, string upstream, string how) => s_following(l, upstream, how, null);
    public static void Slot(ILogger l, string slot, string change) => s_slot(l, slot, change, null);
    public static void Role(ILogger l, string role, string change) => s_role(l, role, change, null);
    public static void ProbeFailed(ILogger l, Exception e) => s_probeFailed(l, e);
    public static void StaleLock(ILogger l, int? pid) => s_staleLock(l, pid, null);
    public static void Command(ILogger l, string program, int exitCode) => s_command(l, program, exitCode, null);
    static readonly Action<ILogger, string, Exception?> s_syncNames =
        LoggerMessage.Define<string>(LogLevel.Information, new EventId(26, "SynchronousStandbyNames"), "synchronous_standby_names = '{Value}'");
    public static void SynchronousStandbyNames(ILogger l, string value) => s_syncNames(l, value, null);
    public static void Wiped(ILogger l, string dataDir) => s_wiped(l, dataDir, null);
    public static void SetAside(ILogger l, string dataDir, string aside) => s_setAside(l, dataDir, aside, null);
    public static void RewindCheck(ILogger l, string host, int port, string verdict, string reason) => s_rewindCheck(l, host, port, verdict, reason, null);
    public static void CrashRecovery(ILogger l, string state) => s_crashRecovery(l, state, null);
    public static void Rewinding(ILogger l, string host, int port) => s_rewinding(l, host, port, null);
    public static void Rewound(ILogger l, string host, int port) => s_rewound(l, host, port, null);
    public static void RewindFailed(ILogger l, string host, int port, string reason) => s_rewindFailed(l, host, port, reason, null);
    public static void SourceCheckpoint(ILogger l, string host, int port, long timeline) => s_sourceCheckpoint(l, host, port, timeline, null);
}
