namespace Appliance.Lab.NetLab;

/// <summary>Where a connection through one of the VIP's listeners lands: the node, and whether it can write.</summary>
public sealed record Route(string Node, bool ReadWrite)
{
    public override string ToString() => $"{Node} ({(ReadWrite ? "read-write" : "read-only")})";
}

/// <summary>One look at the whole lab: every database member, which balancer holds the VIP, and where the VIP's listeners lead.</summary>
public sealed record LabHealth(IReadOnlyList<MemberProgress> Members, IReadOnlyList<string> VipHolders, Route? Primary, Route? Replica)
{
    /// <summary>The running primary's name, when exactly one member says it leads.</summary>
    public string? Leader => Members.Where(m => m.State == "running" && m.Role == "master").Select(m => m.Name).ToList() is [var one] ? one : null;

    /// <summary>
    /// What <c>lab up</c> waits for: a leader that two replicas stream from, exactly one balancer
    /// holding the VIP, the read-write listener leading to the leader and the read-only one answering.
    /// </summary>
    public bool IsHealthy => ClusterProgress.IsHealthy(Members)
        && VipHolders.Count == 1
        && Primary is { ReadWrite: true } p && p.Node == Leader
        && Replica is not null;

    /// <summary>
    /// <see cref="Lines"/> for progress while waiting: the read-only route without its node, which
    /// changes with every connection (round robin) and would print a line each time.
    /// </summary>
    public IEnumerable<string> ProgressLines() => Lines().Select(l => l.StartsWith($"VIP:{LabLayout.ReplicaPort}", StringComparison.Ordinal)
        ? $"VIP:{LabLayout.ReplicaPort} (read-only)  -> {(Replica is null ? "no answer" : Replica.ReadWrite ? "the primary (no replica yet)" : "a replica")}"
        : l);

    /// <summary>One line per part, for <c>lab status</c> and failure messages.</summary>
    public IEnumerable<string> Lines()
    {
        foreach (var m in Members) yield return $"{m.Name}: {m.Label}";
        yield return VipHolders switch
        {
            [] => $"VIP {LabLayout.Vip}: held by no balancer",
            [var one] => $"VIP {LabLayout.Vip}: held by {one}",
            _ => $"VIP {LabLayout.Vip}: held by {string.Join(" and ", VipHolders)} (both!)",
        };
        yield return $"VIP:{LabLayout.PrimaryPort} (read-write) -> {Primary?.ToString() ?? "no answer"}";
        yield return $"VIP:{LabLayout.ReplicaPort} (read-only)  -> {Replica?.ToString() ?? "no answer"}";
    }
}
