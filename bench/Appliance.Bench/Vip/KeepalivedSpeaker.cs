using Appliance.Lab.Keepalived;
using Appliance.Lab.Netns;

namespace Appliance.Bench.Vip;

/// <summary>Debian's keepalived as the reference <see cref="IVipSpeaker"/>, run by <see cref="KeepalivedProcess"/>.</summary>
public sealed class KeepalivedSpeaker : IVipSpeaker
{
    public string Name { get; init; } = "keepalived";

    public Task<IRunningSpeaker> StartAsync(NetnsTopology topology, NodeSpec node, VrrpProfile profile, int priority)
    {
        var instance = new KeepalivedInstance
        {
            Interface = NodeSpec.Interface, VirtualRouterId = profile.VirtualRouterId, Priority = priority, Vip = SeedTopology.Vip,
            Version = profile.Version, AdvertInterval = profile.AdvertInterval, AuthPass = profile.AuthPass,
        };
        return Task.FromResult<IRunningSpeaker>(new Running(KeepalivedProcess.Start(topology, node.Name, instance)));
    }

    /// <summary>keepalived's version line ("Keepalived v2.2.7 (01/16,2022)"), for the results.</summary>
    public static async Task<string> VersionAsync()
    {
        var r = await Command.RunAsync("keepalived", ["--version"]);
        return (r.Errors + r.Output).Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "keepalived";
    }

    sealed class Running(KeepalivedProcess k) : IRunningSpeaker
    {
        public string? State => k.State;
        public Task TerminateAsync() => k.TerminateAsync(TimeSpan.FromSeconds(30));
        public Task KillAsync() => k.KillAsync();
        public string LogTail() => k.LogTail();
        public ValueTask DisposeAsync() => k.DisposeAsync();
    }
}
