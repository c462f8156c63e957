using Appliance.Configuration;

namespace Appliance.Ha;

/// <summary>What the decider needs to know about this node's configuration.</summary>
public sealed record HaSettings
{
    public required string MemberName { get; init; }
    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan LoopWait { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public long MaximumLagOnFailover { get; init; } = 1_048_576;
    public TimeSpan PrimaryStartTimeout { get; init; } = TimeSpan.FromSeconds(300);
    public bool NoFailover { get; init; }
    public int FailoverPriority { get; init; } = 1;

    /// <summary>A node that cannot be promoted: <c>nofailover</c>, or <c>failover_priority</c> 0.</summary>
    public bool CanBePromoted => !NoFailover && FailoverPriority > 0;

    public static HaSettings From(ApplianceConfig c) => new()
    {
        MemberName = c.Node.Name,
        Ttl = TimeSpan.FromSeconds(c.Agent.Ttl),
        LoopWait = TimeSpan.FromSeconds(c.Agent.LoopWait),
        RetryTimeout = TimeSpan.FromSeconds(c.Agent.RetryTimeout),
        MaximumLagOnFailover = c.Agent.MaximumLagOnFailover,
        PrimaryStartTimeout = TimeSpan.FromSeconds(c.Agent.PrimaryStartTimeout),
        NoFailover = c.Tags.Nofailover,
        FailoverPriority = c.Tags.FailoverPriority,
    };
}
