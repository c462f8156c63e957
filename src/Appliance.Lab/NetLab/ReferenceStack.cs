namespace Appliance.Lab.NetLab;

/// <summary>The classic stack from Debian's packages: Patroni 3 with etcd3, HAProxy 2.6 and keepalived (being written).</summary>
public sealed class ReferenceStack : ILabStack
{
    public string Name => "reference";
    public string DatabaseManager => "patroni";
    public IReadOnlyList<string> BalancerServices { get; } = ["haproxy", "keepalived"];
    public void StartDatabase(NetLab lab, LabNode node) => throw new NotImplementedException("the reference stack is not written yet");
    public void StartBalancer(NetLab lab, LabNode node, int priority) => throw new NotImplementedException("the reference stack is not written yet");
}
