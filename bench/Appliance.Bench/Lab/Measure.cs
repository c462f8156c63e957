using System.Globalization;

namespace Appliance.Bench.Lab;

/// <summary>A row of the lab benchmark's table: what was measured and how its values print.</summary>
public sealed record Measure(string Label, string Unit, string Format)
{
    public string Show(double value) => Number(value) + Unit;

    public string Number(double value) => value.ToString(Format, CultureInfo.InvariantCulture);

    public static Measure Seconds(string label) => new(label, " s", "0.000");
    public static Measure Count(string label) => new(label, "", "0");
    public static Measure Tps(string label) => new(label, "", "0");
    public static Measure Ratio(string label) => new(label, "", "0.00");
    public static Measure MiB(string label) => new(label, " MiB", "0.0");
}
