namespace Appliance.Lab.Checker;

/// <summary>
/// One write as the client saw it. Times are on the history's monotonic clock (elapsed since its origin), so
/// real-time order between operations (<c>x.End &lt; y.Start</c>) is meaningful; <c>StartedAt</c> is only for display.
/// <c>Id</c> is set for inserts; <c>From</c> (debited), <c>To</c> (credited) and <c>Amount</c> for transfers. <c>Server</c>
/// is known for acknowledged writes only; <c>Error</c> says why a write did not end <see cref="Outcome.Ok"/>.
/// </summary>
public sealed record Operation(
    OpKind Kind,
    int Client,
    long? Id,
    int? From,
    int? To,
    long? Amount,
    TimeSpan Start,
    TimeSpan End,
    DateTimeOffset StartedAt,
    Outcome Outcome,
    ServedBy? Server,
    string? Error)
{
    public bool IsAcked => Outcome == Outcome.Ok;

    public static Operation Insert(int client, long id, TimeSpan start, TimeSpan end, Outcome outcome,
        ServedBy? server = null, string? error = null, DateTimeOffset startedAt = default)
        => new(OpKind.Insert, client, id, null, null, null, start, end, startedAt, outcome, server, error);

    public static Operation Transfer(int client, int from, int to, long amount, TimeSpan start, TimeSpan end, Outcome outcome,
        ServedBy? server = null, string? error = null, DateTimeOffset startedAt = default)
        => new(OpKind.Transfer, client, null, from, to, amount, start, end, startedAt, outcome, server, error);

    public override string ToString()
    {
        var what = Kind == OpKind.Insert ? $"insert {Id}" : $"transfer {Amount} {From}->{To}";
        var by = Server is null ? "" : $" on {Server}";
        return $"client {Client} {what} [{Start.TotalSeconds:0.000}s..{End.TotalSeconds:0.000}s] {Outcome}{by}";
    }
}
