using System.Text;

namespace Appliance.Bench.Lab;

/// <summary>
/// Everything the lab benchmark measured, by configuration and measure: the values over rounds (or
/// over nodes, for memory) and, for each round that gave none, why (timed out, failed, not run), so
/// the table shows a missing round instead of quietly leaving it out.
/// </summary>
public sealed class LabResults
{
    sealed class Cell
    {
        public List<double> Values { get; } = [];
        public List<string> Missing { get; } = [];
    }

    readonly IReadOnlyList<string> _configurations;
    readonly List<Measure> _measures = [];
    readonly Dictionary<(string Configuration, Measure Measure), Cell> _cells = [];

    public LabResults(IReadOnlyList<string> configurations) => _configurations = configurations;

    public void Add(string configuration, Measure measure, double value) => At(configuration, measure).Values.Add(value);

    /// <summary>A round that gave no value for <paramref name="measure"/>: "timed out", "failed", "not run".</summary>
    public void Miss(string configuration, Measure measure, string why) => At(configuration, measure).Missing.Add(why);

    Cell At(string configuration, Measure measure)
    {
        if (!_measures.Contains(measure)) _measures.Add(measure);
        if (!_cells.TryGetValue((configuration, measure), out var cell)) _cells[(configuration, measure)] = cell = new Cell();
        return cell;
    }

    /// <summary>Rows are measures in the order first recorded, columns configurations; a cell is "median (min–max)", and how many rounds gave no value.</summary>
    public string Markdown()
    {
        var s = new StringBuilder();
        s.Append("| measure | ").AppendJoin(" | ", _configurations).AppendLine(" |");
        s.Append("|---|").AppendJoin("", _configurations.Select(_ => "---|")).AppendLine();
        foreach (var m in _measures)
            s.Append("| ").Append(m.Label).Append(" | ").AppendJoin(" | ", _configurations.Select(c => Show(m, _cells.GetValueOrDefault((c, m))))).AppendLine(" |");
        return s.ToString();
    }

    static string Show(Measure m, Cell? cell)
    {
        if (cell is null) return "-";
        var v = cell.Values.Order().ToList();
        var shown = v.Count switch
        {
            0 => "",
            1 => m.Show(v[0]),
            _ => $"{m.Show(Machine.Median(v)!.Value)} ({m.Number(v[0])}–{m.Show(v[^1])})",
        };
        var missing = string.Join(", ", cell.Missing.GroupBy(w => w).Select(g => $"{g.Count()} {g.Key}"));
        return (shown, missing) switch
        {
            ("", _) => missing,
            (_, "") => shown,
            _ => $"{shown}; {missing}",
        };
    }
}
