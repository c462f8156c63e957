using Npgsql;

namespace Appliance.Lab.Checker;

/// <summary>
/// Turns an exception from a write into an <see cref="Outcome"/>, with the one fact the exception cannot say:
/// whether the commit may have been sent. Kept apart from the clients so the rule is a table test.
/// </summary>
public static class OutcomeClassifier
{
    /// <param name="error">What the write threw.</param>
    /// <param name="commitMayBeSent">False while connecting or inside an explicit transaction before COMMIT;
    /// true from the moment an autocommit statement or a COMMIT is handed to the driver.</param>
    public static Outcome Classify(Exception error, bool commitMayBeSent)
    {
        if (!commitMayBeSent) return Outcome.Failed;
        // ERROR aborts the transaction and keeps the session; FATAL and PANIC end the session and may follow a
        // local commit (the synchronous-replication wait is cancelled with a WARNING and then a FATAL).
        if (error is PostgresException { InvariantSeverity: "ERROR" }) return Outcome.Failed;
        return Outcome.Indeterminate;
    }

    /// <summary>A short description for the history: SQLSTATE and message, or the exception type and message.</summary>
    public static string Describe(Exception error) => error switch
    {
        PostgresException pg => $"{pg.InvariantSeverity} {pg.SqlState}: {pg.MessageText}",
        _ when error.InnerException is { } inner and (TimeoutException or System.Net.Sockets.SocketException or IOException)
            => $"{error.GetType().Name}: {error.Message} ({inner.GetType().Name}: {inner.Message})",
        _ => $"{error.GetType().Name}: {error.Message}",
    };
}
