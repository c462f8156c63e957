namespace Appliance.Lab.Checker;

/// <summary>
/// What a client can know about one write, and so what the checker may conclude from it.
/// <list type="bullet">
/// <item><see cref="Ok"/>: the server acknowledged the commit (for the autocommit insert: the statement's
/// results were read through to ReadyForQuery; for a transfer: COMMIT returned). It must survive.</item>
/// <item><see cref="Failed"/>: definitely not applied. Either the commit never left the client (the connection
/// could not be opened, or the transaction broke before COMMIT was sent: PostgreSQL rolls back an open
/// transaction whose connection goes away), or the server answered with an ERROR-severity error. PostgreSQL
/// aborts the transaction on ERROR; once its commit record is written an error is promoted to PANIC, so an
/// ERROR never follows a commit.</item>
/// <item><see cref="Indeterminate"/>: the commit (or the autocommit statement) may have reached the server and
/// no definite answer came back: the connection was lost, the command timed out or was cancelled, or the
/// server ended the session (FATAL/PANIC, e.g. 57P01 while waiting for synchronous replication after the
/// local commit). It may or may not be applied; it is never counted as lost.</item>
/// </list>
/// </summary>
public enum Outcome
{
    Ok,
    Failed,
    Indeterminate,
}

/// <summary>The two kinds of write the workload issues: inserts check durability, transfers check atomicity.</summary>
public enum OpKind
{
    Insert,
    Transfer,
}
