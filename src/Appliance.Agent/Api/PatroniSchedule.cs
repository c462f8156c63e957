using System.Globalization;

namespace Appliance.Agent.Api;

/// <summary>Patroni's <c>parse_schedule</c> for <c>schedule</c> and <c>scheduled_at</c>: a timestamp with a zone, not in the past.</summary>
public static class PatroniSchedule
{
    /// <summary>The moment, or null with Patroni's status code and text.</summary>
    public static (DateTimeOffset? At, int Code, string Error) Parse(string? text, string action, DateTimeOffset now)
    {
        if (text is null || !DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed))
            return (null, 422, "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601");
        // RoundtripKind leaves a timestamp without "Z" or an offset Unspecified: Patroni refuses to guess its zone.
        if (parsed.Kind == DateTimeKind.Unspecified) return (null, 400, $"Timezone information is mandatory for the scheduled {action}");
        var at = DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        if (at < now) return (null, 422, $"Cannot schedule {action} in the past");
        return (at, 0, "");
    }
}
