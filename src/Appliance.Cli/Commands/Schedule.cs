using System.Globalization;
using Appliance.Cli.CommandLine;

namespace Appliance.Cli.Commands;

/// <summary>
/// <c>--scheduled</c> as ctl.py's <c>parse_scheduled</c>: <c>now</c> (or nothing) means at once; any
/// other value is a timestamp, local time when it names no zone, sent as ISO 8601 with its offset
/// (Python's <c>isoformat()</c>: microseconds only when there are any).
/// </summary>
internal static class Schedule
{
    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Trim() == "now") return null;
        if (DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal | DateTimeStyles.AllowWhiteSpaces, out var at))
            return at;
        throw CtlException.UsageError($"Unable to parse scheduled timestamp ({text}). It should be in an unambiguous format (e.g. ISO 8601)");
    }

    public static string Iso(DateTimeOffset at)
    {
        var fraction = at.Ticks % TimeSpan.TicksPerSecond != 0 ? ".ffffff" : "";
        return at.ToString($"yyyy-MM-dd'T'HH:mm:ss{fraction}zzz", CultureInfo.InvariantCulture);
    }

    public static string NextHourExample(TimeProvider time) =>
        time.GetLocalNow().AddHours(1).ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);
}
