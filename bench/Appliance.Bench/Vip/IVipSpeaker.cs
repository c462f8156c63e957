using Appliance.Lab.Netns;

namespace Appliance.Bench.Vip;

/// <summary>
/// A VRRP implementation the VIP benchmark can run on the balancer nodes of a topology: keepalived
/// (<see cref="KeepalivedSpeaker"/>) and <c>appliance-balancer</c> (<see cref="BalancerSpeaker"/>), so both are measured the same way.
/// </summary>
public interface IVipSpeaker
{
    /// <summary>What the results table calls it, with its version.</summary>
    string Name { get; }

    /// <summary>Starts one speaker for <paramref name="profile"/> on <paramref name="node"/> with <paramref name="priority"/>, holding <see cref="SeedTopology.Vip"/>.</summary>
    Task<IRunningSpeaker> StartAsync(NetnsTopology topology, NodeSpec node, VrrpProfile profile, int priority);
}

/// <summary>One speaker process on one node.</summary>
public interface IRunningSpeaker : IAsyncDisposable
{
    /// <summary>"MASTER", "BACKUP", "FAULT"... as the speaker reports it; null before it reported any state.</summary>
    string? State { get; }

    /// <summary>A clean stop (SIGTERM): a master gives the VIP away with a priority-0 advert. Returns once the process exited.</summary>
    Task TerminateAsync();

    /// <summary>A crash (SIGKILL of every process of the speaker). Returns once it is dead.</summary>
    Task KillAsync();

    /// <summary>The end of its log, for a failed run's report.</summary>
    string LogTail();
}

/// <summary>The VRRP settings a benchmark row runs with; the same for every implementation.</summary>
public sealed record VrrpProfile(string Name, int Version, TimeSpan AdvertInterval, int VirtualRouterId, string? AuthPass);
