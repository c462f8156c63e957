namespace Appliance.Cli.Model;

/// <summary>
/// ctl.py's <c>topology_sort</c>: the leader first, then each replica under its upstream (its
/// <c>replicatefrom</c> tag when that names another replica, else the leader), with the name prefixed
/// by <c>+ </c> and two more spaces per level below the first.
/// </summary>
internal static class Topology
{
    public static IEnumerable<(MemberView Member, string DisplayName)> Sort(IReadOnlyList<MemberView> members)
    {
        var leader = members.FirstOrDefault(m => m.IsLeader);
        var replicas = members.Where(m => !m.IsLeader).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var children = new Dictionary<string, List<MemberView>>(StringComparer.Ordinal);
        const string NoLeader = "\0";
        foreach (var m in members.Where(m => !m.IsLeader))
        {
            var parent = m.ReplicateFrom is { } p && p != m.Name && replicas.Contains(p) ? p : leader?.Name ?? NoLeader;
            if (!children.TryGetValue(parent, out var list)) children[parent] = list = [];
            list.Add(m);
        }
        return Walk(0, leader, leader?.Name ?? NoLeader, children, []);
    }

    private static IEnumerable<(MemberView, string)> Walk(int level, MemberView? member, string key, Dictionary<string, List<MemberView>> children, HashSet<string> seen)
    {
        if (member is not null)
        {
            if (!seen.Add(member.Name)) yield break; // a replicatefrom cycle: show each member once
            yield return (member, level > 0 ? new string(' ', (level - 1) * 2) + "+ " + member.Name : member.Name);
        }
        if (!children.TryGetValue(key, out var list)) yield break;
        foreach (var child in list)
            foreach (var x in Walk(level + 1, child, child.Name, children, seen))
                yield return x;
    }
}
