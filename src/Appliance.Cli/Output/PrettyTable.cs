using System.Text;

namespace Appliance.Cli.Output;

/// <summary>
/// The table patronictl prints (Python's PrettyTable as ctl.py's <c>PatronictlPrettyTable</c> uses it):
/// cells padded by one space, columns left-aligned unless named in <c>rightAligned</c> (headers follow
/// their column), rules around the header and the frame only, or between every row when a cell spans
/// lines, and an optional title written over the start of the top rule (<c>+ Cluster: name ---+---</c>).
/// </summary>
internal static class PrettyTable
{
    public static string Render(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<string>> rows, IReadOnlySet<string> rightAligned, string? title = null)
    {
        var widths = columns.Select((c, i) => Math.Max(c.Length, rows.Count == 0 ? 0 : rows.Max(r => Lines(r[i]).Max(l => l.Length)))).ToArray();
        var rule = "+" + string.Join("+", widths.Select(w => new string('-', w + 2))) + "+";
        var top = rule;
        if (!string.IsNullOrEmpty(title))
        {
            var header = title.Length > rule.Length - 2 ? title[..(rule.Length - 2)] : title;
            top = rule[0] + header + rule[(1 + header.Length)..];
        }
        var everyRow = rows.Any(r => r.Any(c => c.Contains('\n', StringComparison.Ordinal)));
        var sb = new StringBuilder();
        sb.Append(top).Append('\n');
        AppendRow(sb, columns, widths, columns, rightAligned);
        sb.Append(rule).Append('\n');
        for (var r = 0; r < rows.Count; r++)
        {
            AppendRow(sb, rows[r], widths, columns, rightAligned);
            if (everyRow || r == rows.Count - 1) sb.Append(rule).Append('\n');
        }
        if (rows.Count == 0) sb.Append(rule).Append('\n');
        return sb.ToString().TrimEnd('\n');
    }

    private static string[] Lines(string cell) => cell.Split('\n');

    private static void AppendRow(StringBuilder sb, IReadOnlyList<string> cells, int[] widths, IReadOnlyList<string> columns, IReadOnlySet<string> right)
    {
        var lines = cells.Select(Lines).ToArray();
        var height = lines.Max(l => l.Length);
        for (var h = 0; h < height; h++)
        {
            sb.Append('|');
            for (var i = 0; i < cells.Count; i++)
            {
                var text = h < lines[i].Length ? lines[i][h] : "";
                sb.Append(' ').Append(right.Contains(columns[i]) ? text.PadLeft(widths[i]) : text.PadRight(widths[i])).Append(" |");
            }
            sb.Append('\n');
        }
    }
}
