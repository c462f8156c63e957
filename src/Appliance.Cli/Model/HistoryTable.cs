using System.Text.Json;
using System.Text.Json.Nodes;
using Appliance.Cli.Output;

namespace Appliance.Cli.Model;

/// <summary>The <c>history</c> key as ctl.py's <c>history</c> shows it: TL, LSN, Reason, Timestamp, New Leader; short lines padded with empty cells.</summary>
internal static class HistoryTable
{
    public static readonly string[] Columns = ["TL", "LSN", "Reason", "Timestamp", "New Leader"];

    public static List<List<JsonNode?>> Rows(string? historyJson)
    {
        var rows = new List<List<JsonNode?>>();
        if (string.IsNullOrEmpty(historyJson)) return rows;
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(historyJson);
        }
        catch (JsonException)
        {
            return rows;
        }
        if (root is not JsonArray lines) return rows;
        foreach (var line in lines)
        {
            if (line is not JsonArray cells) continue;
            var row = cells.Take(Columns.Length).Select(c => c?.DeepClone()).ToList();
            while (row.Count < Columns.Length) row.Add("");
            rows.Add(row);
        }
        return rows;
    }

    public static string Pretty(string? historyJson)
    {
        var cells = Rows(historyJson).Select(r => (IReadOnlyList<string>)r.Select(MemberTable.Cell).ToList()).ToList();
        return PrettyTable.Render(Columns, cells, new HashSet<string> { "TL", "LSN" });
    }

    public static string Json(string? historyJson)
    {
        var array = new JsonArray();
        foreach (var r in Rows(historyJson))
        {
            var o = new JsonObject();
            for (var i = 0; i < r.Count; i++)
                o[Columns[i]] = r[i];
            array.Add((JsonNode)o);
        }
        return PyJson.Write(array);
    }
}
