namespace Appliance.Lab.NetLab;

/// <summary>
/// The timings a lab runs with, the same knobs for either stack: the HA loop (Patroni's ttl,
/// loop_wait, retry_timeout, maximum_lag_on_failover, synchronous_mode), VRRP, and the proxy's
/// health checks.
/// </summary>
public sealed record LabProfile
{
    /// <summary>The name shown in status, lab.json and benchmark tables.</summary>
    public required string Name { get; init; }
    public required int Ttl { get; init; }
    public required int LoopWait { get; init; }
    public required int RetryTimeout { get; init; }
    public long MaximumLagOnFailover { get; init; } = 1_048_576;
    /// <summary>Commits wait for a synchronous standby: no acknowledged write is ever lost.</summary>
    public bool SynchronousMode { get; init; }
    /// <summary>2 (with the seed's PASS authentication) or 3.</summary>
    public int VrrpVersion { get; init; } = 2;
    public double AdvertInterval { get; init; } = 1;
    /// <summary>
    /// Seconds from becoming VRRP master to the second burst of gratuitous ARPs (keepalived's default
    /// 5). A client ignores an ARP update less than a second after the previous one (Linux's
    /// locktime), so when the VIP moves twice within a second — a returning higher-priority balancer
    /// taking it back — the first burst can be lost on it, and this burst is when it follows.
    /// </summary>
    public int GarpMasterDelay { get; init; } = 5;
    /// <summary>Seconds between proxy health checks, and the fall/rise counts.</summary>
    public double CheckInter { get; init; } = 3;
    public int CheckFall { get; init; } = 3;
    public int CheckRise { get; init; } = 2;

    /// <summary>The seed's settings (../shared/mission): ttl 30, loop_wait 10, VRRPv2 every second, checks every 3 s.</summary>
    public static LabProfile Seed { get; } = new() { Name = "seed", Ttl = 30, LoopWait = 10, RetryTimeout = 10 };

    /// <summary>
    /// Our recommended production profile: synchronous mode (nothing acknowledged is lost), a short
    /// lease with a one-second loop, VRRPv3 at 100 ms, and checks every second (the proxy also follows
    /// the leader key, so it does not wait for checks to find a new primary).
    /// </summary>
    public static LabProfile Production { get; } = new()
    {
        Name = "production", Ttl = 10, LoopWait = 1, RetryTimeout = 4, SynchronousMode = true,
        VrrpVersion = 3, AdvertInterval = 0.1, GarpMasterDelay = 1, CheckInter = 1, CheckFall = 2, CheckRise = 1,
    };

    /// <summary>The fastest timings Patroni 3 accepts (its ttl floor is 20 s), for the reference stack.</summary>
    public static LabProfile PatroniFastest { get; } = Seed with { Name = "patroni-fastest", Ttl = 20, LoopWait = 1, RetryTimeout = 9 };

    public static IReadOnlyList<LabProfile> Known { get; } = [Production, Seed, PatroniFastest];

    /// <summary>The profile called <paramref name="name"/>, or an error listing the known ones.</summary>
    public static LabProfile Named(string name) => Known.FirstOrDefault(p => p.Name == name)
        ?? throw new ArgumentException($"unknown profile '{name}': one of {string.Join(", ", Known.Select(p => p.Name))}");
}
