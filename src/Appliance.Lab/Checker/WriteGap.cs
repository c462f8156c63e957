namespace Appliance.Lab.Checker;

/// <summary>
/// A time during which no client got a write acknowledged: the client-observed write downtime of a failover.
/// From the acknowledgement before it to the one after it; <see cref="Open"/> when no write was acknowledged
/// again before the workload stopped.
/// </summary>
public sealed record WriteGap(TimeSpan From, TimeSpan To, bool Open)
{
    public TimeSpan Duration => To - From;

    public override string ToString()
        => $"{Duration.TotalSeconds:0.000} s from {From.TotalSeconds:0.0} s to {To.TotalSeconds:0.0} s" + (Open ? " (no write acknowledged since)" : "");
}

/// <summary>Writes per bucket of time, by outcome, keyed by when they ended: a throughput curve around a fault.</summary>
public sealed record RateBucket(TimeSpan Start, int Acked, int Failed, int Indeterminate);

/// <summary>A stretch of consecutive acknowledged writes served by one node on one timeline.</summary>
public sealed record ServingPeriod(ServedBy Server, TimeSpan From, TimeSpan To, int Acked)
{
    public override string ToString() => $"{Server} from {From.TotalSeconds:0.0} s until {To.TotalSeconds:0.0} s ({Acked} writes)";
}
