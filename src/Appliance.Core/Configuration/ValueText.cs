using System.Globalization;

namespace Appliance.Configuration;

/// <summary>How values are named in error messages and turned into postgresql.conf settings.</summary>
internal static class ValueText
{
    private const int MaxShown = 40;

    /// <summary>"a string (\"10\")", "an integer (5)", "a table": the "found ..." half of an error.</summary>
    public static string Describe(TomlNode node) => node switch
    {
        TomlScalar { Kind: TomlScalarKind.String, Value: string s } => $"a string ({TomlWriter.Quote(Shorten(s))})",
        TomlScalar { Kind: TomlScalarKind.Integer, Value: long i } => $"an integer ({i.ToString(CultureInfo.InvariantCulture)})",
        TomlScalar { Kind: TomlScalarKind.Float, Value: double f } => $"a float ({FormatFloat(f)})",
        TomlScalar { Kind: TomlScalarKind.Boolean, Value: bool b } => $"a boolean ({(b ? "true" : "false")})",
        TomlScalar { Kind: TomlScalarKind.DateTime, Value: var d } => $"a date-time ({d})",
        TomlArray { Items.Count: 0 } => "an empty array",
        TomlArray => "an array",
        TomlTableNode => "a table",
        _ => "a value",
    };

    /// <summary>A scalar as postgresql.conf writes it: booleans on/off, numbers in invariant culture; null for a date-time.</summary>
    public static string? AsSetting(TomlScalar scalar) => scalar.Value switch
    {
        string s when scalar.Kind == TomlScalarKind.String => s,
        long i => i.ToString(CultureInfo.InvariantCulture),
        double f when double.IsFinite(f) => FormatFloat(f),
        bool b => b ? "on" : "off",
        _ => null,
    };

    private static string FormatFloat(double f) => f.ToString("R", CultureInfo.InvariantCulture);

    private static string Shorten(string s) => s.Length <= MaxShown ? s : s[..MaxShown] + "…";
}
