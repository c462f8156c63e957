using Appliance.Agent.Ha;
using Appliance.Cluster;
using Appliance.Ha;

using Appliance.Simulator.World;

namespace Appliance.Simulator.Models;

/// <summary>
/// <c>GET /patroni</c> between agents: answered by the peer's agent while it runs, is not frozen and the
/// network carries the request and the answer; otherwise unreachable after the caller's timeout.
/// </summary>
public sealed class SimPeers(SimWorld world, string host) : IPeerClient
{
    public async Task<PeerStatus[]> FetchAsync(IEnumerable<Member> members, TimeSpan timeout, CancellationToken ct)
    {
        var list = members.ToList();
        var answers = list.Select(m => world.Node(m.Name) is { } n && n.AgentResponsive && world.Network.ApiConnected(host, n.Host)
            ? n.PeerStatus() : null).ToList();
        var delay = answers.All(a => a is not null) ? SimNetwork.BaseLatency * 4 : timeout;
        await Task.Delay(delay, world.Loop.Time, ct);
        return [.. list.Select((m, i) => answers[i] ?? PeerStatus.Unreachable(m.Name))];
    }
}
