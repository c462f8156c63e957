using Appliance.Lab.Balancer;
using Appliance.Lab.Netns;

namespace Appliance.Bench.Vip;

/// <summary>Our <c>appliance-balancer</c> (the published AOT binary) as an <see cref="IVipSpeaker"/>, run by <see cref="BalancerProcess"/>.</summary>
public sealed class BalancerSpeaker : IVipSpeaker
{
    public string Name { get; init; } = "appliance-balancer";

    public Task<IRunningSpeaker> StartAsync(NetnsTopology topology, NodeSpec node, VrrpProfile profile, int priority)
    {
        // The same VRRP and gratuitous-ARP settings as KeepalivedSpeaker gives keepalived (its defaults: 5 GARPs, second burst after 5 s).
        var instance = new BalancerInstance
        {
            Interface = NodeSpec.Interface, VirtualRouterId = profile.VirtualRouterId, Priority = priority, Vip = SeedTopology.Vip,
            Version = profile.Version, AdvertInterval = profile.AdvertInterval, AuthPass = profile.AuthPass,
        };
        return Task.FromResult<IRunningSpeaker>(new Running(BalancerProcess.Start(topology, node.Name, instance)));
    }

    /// <summary>"appliance-balancer x.y.z" from the binary, for the results.</summary>
    public static async Task<string> VersionAsync()
    {
        var r = await Command.RunAsync(BalancerProcess.Binary(), ["--version"]);
        return r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "appliance-balancer";
    }

    sealed class Running(BalancerProcess b) : IRunningSpeaker
    {
        public string? State => b.State;
        public Task TerminateAsync() => b.TerminateAsync(TimeSpan.FromSeconds(30));
        public Task KillAsync() => b.KillAsync();
        public string LogTail() => b.LogTail();
        public ValueTask DisposeAsync() => b.DisposeAsync();
    }
}
