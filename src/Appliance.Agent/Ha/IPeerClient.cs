using Appliance.Cluster;
using Appliance.Ha;

namespace Appliance.Agent.Ha;

/// <summary>Asks other members for their state (<c>GET /patroni</c>): over HTTP in the agent, from the models in the simulator.</summary>
public interface IPeerClient
{
    /// <summary>One answer per member, in order; a member that does not answer within <paramref name="timeout"/> is <see cref="PeerStatus.Unreachable"/>.</summary>
    Task<PeerStatus[]> FetchAsync(IEnumerable<Member> members, TimeSpan timeout, CancellationToken ct);
}
