using Appliance.Bench.Proxy;
using Appliance.Lab.NetLab;

namespace Appliance.Bench.Lab;

/// <summary>
/// Resident memory (VmRSS) of each lab service, counting the process and its descendants that run the
/// same program (keepalived's VRRP child, HAProxy's worker) but not what a manager starts (the
/// PostgreSQL the agent or Patroni runs), so the same thing is counted on either stack.
/// </summary>
public static class ServiceMemory
{
    /// <summary>Kilobytes by node and service, for every service that runs.</summary>
    public static IReadOnlyList<(string Node, string Service, long RssKb)> Read(NetLab lab)
    {
        var children = Children();
        var rows = new List<(string, string, long)>();
        foreach (var node in lab.Nodes)
        foreach (var s in node.Services)
        {
            if (s.Pid is not int pid) continue;
            var program = Comm(pid);
            var kb = Tree(pid, children).Where(p => Comm(p) == program).Sum(p => ProcUsage.Read(p)?.RssKb ?? 0);
            rows.Add((node.Name, s.Name, kb));
        }
        return rows;
    }

    static IEnumerable<int> Tree(int pid, ILookup<int, int> children)
    {
        yield return pid;
        foreach (var c in children[pid])
        foreach (var d in Tree(c, children))
            yield return d;
    }

    /// <summary>Every process's children, from the parent PID in <c>/proc/&lt;pid&gt;/stat</c>.</summary>
    static ILookup<int, int> Children()
    {
        var pairs = new List<(int Parent, int Child)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // After the command name's closing parenthesis: state, then the parent PID.
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                pairs.Add((int.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture), pid));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { }
        }
        return pairs.ToLookup(p => p.Parent, p => p.Child);
    }

    static string? Comm(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
