using Appliance.Lab.Netns;

namespace Appliance.Lab.NetLab;

/// <summary>A node of the lab: its namespace, its folder and the services running on it.</summary>
public sealed class LabNode
{
    readonly Dictionary<string, LabService> _services = [];

    public LabNode(NodeSpec spec, string @namespace, string dir)
    {
        Spec = spec;
        Namespace = @namespace;
        Dir = dir;
    }

    public string Name => Spec.Name;
    public NodeSpec Spec { get; }
    public string Address => Spec.Address.ToString();
    /// <summary>The network namespace (<c>ip netns exec</c> it).</summary>
    public string Namespace { get; }
    /// <summary>This node's folder: configurations, logs, data.</summary>
    public string Dir { get; }
    /// <summary>PostgreSQL's data directory on a database node.</summary>
    public string DataDir => Path.Combine(Dir, "pgdata");
    public IReadOnlyCollection<LabService> Services => _services.Values;

    /// <summary>The service called <paramref name="name"/> on this node, or an error naming those it has.</summary>
    public LabService this[string name] => _services.TryGetValue(name, out var s) ? s
        : throw new ArgumentException($"{Name} runs no '{name}' (it runs: {string.Join(", ", _services.Keys)})");

    public bool Has(string name) => _services.ContainsKey(name);

    /// <summary>Registers and starts a service.</summary>
    public LabService Run(string name, Func<ChildProcess> start)
    {
        var s = new LabService(Name, name, start);
        _services[name] = s;
        s.Start();
        return s;
    }

    /// <summary>The postmaster's PID from <c>postmaster.pid</c>, while it runs.</summary>
    public int? PostmasterPid => Postmaster.PidOf(DataDir);
}
