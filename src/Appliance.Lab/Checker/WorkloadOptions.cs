namespace Appliance.Lab.Checker;

/// <summary>
/// How hard and how long the workload pushes. The defaults keep a 2-core machine that also runs the cluster
/// well below saturation (about 200 writes/s in all) while still sampling a failover every few milliseconds.
/// </summary>
public sealed record WorkloadOptions
{
    /// <summary>The one address clients use: through the proxy or VIP to whichever node is primary.</summary>
    public required string ConnectionString { get; init; }

    public int Inserters { get; init; } = 2;
    public int BankClients { get; init; } = 2;
    public int Accounts { get; init; } = 5;
    public long InitialBalance { get; init; } = 1000;

    /// <summary>Total target across all clients; 0 runs each client as fast as it can.</summary>
    public double WritesPerSecond { get; init; } = 200;

    /// <summary>How long set-up keeps retrying while the cluster settles before <see cref="Workload.StartAsync"/> gives up.</summary>
    public TimeSpan SetupTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Short, so a client notices a dead primary quickly and tries again.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Bounds a write that hangs (a partitioned primary); such a write ends <see cref="Outcome.Indeterminate"/>.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Pause after a write that did not succeed, before reconnecting.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long <see cref="Workload.StopAsync"/> lets writes in flight finish before cancelling them.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>The run's first id; null picks a random multiple of <see cref="History.IdRange"/>, so runs never collide.</summary>
    public long? IdBase { get; init; }

    /// <summary>Seeds the accounts and amounts of transfers (and the random id base); null for a random seed.</summary>
    public int? Seed { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Live progress for a demo or a test's wait: is the cluster taking writes right now, and since when not.
/// <c>SinceLastAck</c> is the current write gap (since the start when nothing was acknowledged yet).
/// </summary>
public sealed record WorkloadSnapshot(
    TimeSpan Elapsed,
    long Acked,
    long Failed,
    long Indeterminate,
    int AckedLastSecond,
    TimeSpan SinceLastAck,
    ServedBy? LastServer)
{
    public override string ToString()
        => $"[{Elapsed.TotalSeconds,6:0.0}s] {AckedLastSecond,4} writes/s, last ack {SinceLastAck.TotalSeconds,5:0.0}s ago by {LastServer?.ToString() ?? "nobody"}; " +
           $"{Acked} ok, {Failed} failed, {Indeterminate} indeterminate";
}
