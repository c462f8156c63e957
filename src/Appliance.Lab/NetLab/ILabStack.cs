namespace Appliance.Lab.NetLab;

/// <summary>
/// Which high-availability stack a lab runs on the same topology, with the same etcd cluster: ours
/// (<see cref="ApplianceStack"/>) or the classic one it replaces (<see cref="ReferenceStack"/>). Both
/// speak Patroni's REST API on every database node, put the read-write and read-only listeners on the
/// VIP, and keep PostgreSQL's data in <see cref="LabNode.DataDir"/>, so everything that drives or
/// checks a lab works on either.
/// </summary>
public interface ILabStack
{
    /// <summary>"appliance" or "reference", as <c>--stack</c> takes it.</summary>
    string Name { get; }

    /// <summary>The service that runs PostgreSQL on a database node ("agent", "patroni").</summary>
    string DatabaseManager { get; }

    /// <summary>The services of a balancer node, the VRRP speaker last ("balancer"; "haproxy", "keepalived").</summary>
    IReadOnlyList<string> BalancerServices { get; }

    /// <summary>Writes the node's configuration and starts its PostgreSQL manager (the etcd member already runs).</summary>
    void StartDatabase(NetLab lab, LabNode node);

    /// <summary>Writes the node's configuration and starts its proxy and VRRP speaker with <paramref name="priority"/>.</summary>
    void StartBalancer(NetLab lab, LabNode node, int priority);

    /// <summary>The stack called <paramref name="name"/>.</summary>
    static ILabStack Named(string name) => name switch
    {
        "appliance" => new ApplianceStack(),
        "reference" => new ReferenceStack(),
        _ => throw new ArgumentException($"unknown stack '{name}': appliance or reference"),
    };
}
