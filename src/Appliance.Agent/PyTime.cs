using System.Globalization;

namespace Appliance.Agent;

/// <summary>Timestamps as Patroni's Python prints them, so tools that parse them keep working.</summary>
public static class PyTime
{
    /// <summary>
    /// Python's <c>datetime.isoformat(sep)</c>: the offset as written (<c>+00:00</c>, not <c>Z</c>),
    /// microseconds only when there are any.
    /// </summary>
    public static string Iso(DateTimeOffset t, char sep = 'T')
    {
        var fraction = t.Ticks % TimeSpan.TicksPerSecond / 10 != 0 ? ".ffffff" : "";
        return t.ToString($"yyyy-MM-dd'{sep}'HH:mm:ss{fraction}zzz", CultureInfo.InvariantCulture);
    }
}
