using System.Net.Sockets;
using Appliance.Lab.Checker;
using Npgsql;

namespace Appliance.Lab.Tests.Checker;

public class OutcomeClassifierTests
{
    static readonly Dictionary<string, (Exception Error, bool CommitMayBeSent, Outcome Expected)> Table = new()
    {
        ["connect refused"] = (new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused)), false, Outcome.Failed),
        ["connection lost before COMMIT"] = (new NpgsqlException("Exception while reading", new IOException("reset")), false, Outcome.Failed),
        ["read-only replica rejects the write"] = (new PostgresException("cannot execute INSERT in a read-only transaction", "ERROR", "ERROR", "25006"), true, Outcome.Failed),
        ["deadlock at commit"] = (new PostgresException("deadlock detected", "ERROR", "ERROR", "40P01"), true, Outcome.Failed),
        ["connection lost after COMMIT was sent"] = (new NpgsqlException("Exception while reading", new IOException("reset")), true, Outcome.Indeterminate),
        ["server shut down during the commit"] = (new PostgresException("terminating connection due to administrator command", "FATAL", "FATAL", "57P01"), true, Outcome.Indeterminate),
        ["command timeout"] = (new NpgsqlException("Exception while reading", new TimeoutException("Timeout during reading")), true, Outcome.Indeterminate),
        ["cancelled while stopping"] = (new OperationCanceledException(), true, Outcome.Indeterminate),
    };

    [Theory]
    [InlineData("connect refused")]
    [InlineData("connection lost before COMMIT")]
    [InlineData("read-only replica rejects the write")]
    [InlineData("deadlock at commit")]
    [InlineData("connection lost after COMMIT was sent")]
    [InlineData("server shut down during the commit")]
    [InlineData("command timeout")]
    [InlineData("cancelled while stopping")]
    public void Classifies(string name)
    {
        var (error, sent, expected) = Table[name];
        Assert.Equal(expected, OutcomeClassifier.Classify(error, sent));
    }
}
