using System.Text.Json;
using System.Text.Json.Nodes;
using Appliance.Cli.Output;

namespace Appliance.Cli.Model;

/// <summary>
/// The rows of <c>list</c> and <c>topology</c> (ctl.py's <c>output_members</c>): Cluster, Member, Host
/// (<c>host:port</c> when a port is not 5432 or two members share a host), Role, State, TL, Lag in MB,
/// and Pending restart / Scheduled restart / Tags when any member has them.
/// </summary>
internal static class MemberTable
{
    public static readonly IReadOnlySet<string> RightAligned = new HashSet<string> { "TL", "Lag in MB" };

    public static (List<string> Columns, List<List<JsonNode?>> Rows) Build(ClusterView c, bool topology)
    {
        var columns = new List<string> { "Cluster", "Member", "Host", "Role", "State", "TL", "Lag in MB" };
        if (c.Members.Any(m => m.PendingRestart)) columns.Add("Pending restart");
        if (c.Members.Any(m => m.ScheduledRestart is not null)) columns.Add("Scheduled restart");
        if (c.Members.Any(m => m.Tags is not null)) columns.Add("Tags");
        var withHost = c.Members.Where(m => m.Host is not null).ToList();
        var appendPort = withHost.Any(m => m.Port is { } p && p != 5432) || withHost.Select(m => m.Host).Distinct().Count() < withHost.Count;

        var ordered = topology ? Topology.Sort(c.Members) : c.Members.Select(m => (m, m.Name));
        var rows = new List<List<JsonNode?>>();
        foreach (var (m, name) in ordered)
        {
            var host = m.Host is null ? "" : appendPort && m.Port is { } port ? $"{m.Host}:{port}" : m.Host;
            var row = new List<JsonNode?>
            {
                c.Scope, name, host, m.RoleTitle, m.State,
                m.Timeline is { } tl ? JsonValue.Create(tl) : "",
                m.LagInMb is { } mb ? JsonValue.Create(mb) : m.LagUnknown ? "unknown" : "",
            };
            if (columns.Contains("Pending restart")) row.Add(m.PendingRestart ? "*" : "");
            if (columns.Contains("Scheduled restart")) row.Add(m.ScheduledRestart ?? "");
            if (columns.Contains("Tags")) row.Add(m.Tags is { } t ? TagsNode(t) : "");
            rows.Add(row);
        }
        return (columns, rows);
    }

    /// <summary>The pretty table, without the Cluster column (it is in the title), then the service lines.</summary>
    public static string Pretty(ClusterView c, bool topology)
    {
        var (columns, rows) = Build(c, topology);
        // ctl.py formats tags as block YAML for list and as flow YAML ({a: b}) for topology.
        var cells = rows.Select(r => (IReadOnlyList<string>)r.Skip(1).Select(v => topology && v is JsonObject o ? Yaml.Flow(o) : Cell(v)).ToList()).ToList();
        var text = PrettyTable.Render(columns.Skip(1).ToList(), cells, RightAligned, $" Cluster: {c.Scope} ");
        var service = new List<string>();
        if (c.Paused) service.Add("Maintenance mode: on");
        if (c.Scheduled is { } s)
        {
            var info = "Switchover scheduled at: " + s.At;
            if (s.From is not null) info += $"\n{"from",24}: {s.From}";
            if (s.To is not null) info += $"\n{"to",24}: {s.To}";
            service.Add(info);
        }
        return service.Count == 0 ? text : text + "\n " + string.Join("\n ", service);
    }

    /// <summary>patronictl's <c>--format json</c>: one object per member, keys in column order, empty values left out.</summary>
    public static string Json(ClusterView c)
    {
        var (columns, rows) = Build(c, topology: false);
        var array = new JsonArray();
        foreach (var r in rows)
        {
            var o = new JsonObject();
            for (var i = 0; i < columns.Count; i++)
                if (Cell(r[i]).Length > 0) o[columns[i]] = r[i]?.DeepClone();
            array.Add((JsonNode)o);
        }
        return PyJson.Write(array);
    }

    private static JsonObject TagsNode(IReadOnlyDictionary<string, Appliance.Cluster.JsonTagValue> tags)
    {
        var o = new JsonObject();
        foreach (var (k, v) in tags) o[k] = JsonNode.Parse(v.Value.GetRawText());
        return o;
    }

    /// <summary>A cell as Python's <c>str()</c> shows it; tags as YAML lines.</summary>
    internal static string Cell(JsonNode? v) => v switch
    {
        null => "None",
        JsonObject o => Yaml.Write(o).Trim(),
        JsonValue x when x.GetValueKind() == JsonValueKind.String => x.GetValue<string>(),
        JsonValue x when x.GetValueKind() == JsonValueKind.True => "True",
        JsonValue x when x.GetValueKind() == JsonValueKind.False => "False",
        _ => v.ToJsonString(),
    };
}
