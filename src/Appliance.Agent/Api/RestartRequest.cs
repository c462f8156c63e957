using System.Globalization;
using System.Text.Json;
using Appliance.Ha;

namespace Appliance.Agent.Api;

/// <summary>
/// The body of <c>POST /restart</c>, checked key by key in the order given, as Patroni's
/// <c>do_POST_restart</c> does, with its texts and status codes. Pure: the clock is a parameter.
/// </summary>
public sealed record RestartRequest
{
    public DateTimeOffset? Schedule { get; init; }
    public string? Role { get; init; }
    public string? PostgresVersion { get; init; }
    public bool RestartPending { get; init; }
    public int? Timeout { get; init; }

    /// <summary>The request, or the status code and text to refuse it with. A null body means no conditions.</summary>
    public static (RestartRequest? Request, int Code, string Error) Parse(JsonElement? body, DateTimeOffset now)
    {
        var r = new RestartRequest();
        if (body is not { } b) return (r, 0, "");
        foreach (var p in b.EnumerateObject())
        {
            switch (p.Name)
            {
                case "schedule":
                    var text = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                    var (at, code, error) = PatroniSchedule.Parse(text, "restart", now);
                    if (at is null) return (null, code, error);
                    r = r with { Schedule = at };
                    break;
                case "role":
                    if (p.Value.ValueKind != JsonValueKind.String || p.Value.GetString() is not ("master" or "primary" or "replica"))
                        return (null, 400, "PostgreSQL role should be either primary or replica");
                    r = r with { Role = p.Value.GetString() };
                    break;
                case "postgres_version":
                    var version = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                    if (RestartSchedule.VersionToInt(version, out var why) is null) return (null, 400, why!);
                    r = r with { PostgresVersion = version };
                    break;
                case "timeout":
                    if (Seconds(p.Value) is not int t || t <= 0) return (null, 400, "Timeout should be a positive number of seconds");
                    r = r with { Timeout = t };
                    break;
                case "restart_pending":
                    // Patroni only asks whether the key is there, whatever its value.
                    r = r with { RestartPending = true };
                    break;
                default:
                    return (null, 400, $"Unknown filter for the scheduled restart: {p.Name}");
            }
        }
        return (r, 0, "");
    }

    /// <summary>Patroni's <c>parse_int(value, 's')</c> for the usual forms: 30, "30", "30s", "1min", "1h", "1d", "1500ms".</summary>
    static int? Seconds(JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Number) return v.TryGetDouble(out var d) ? (int)Math.Round(d) : null;
        if (v.ValueKind != JsonValueKind.String) return null;
        var s = v.GetString()!.Trim();
        var end = 0;
        while (end < s.Length && (char.IsAsciiDigit(s[end]) || s[end] is '.' or '-' or '+')) end++;
        if (!double.TryParse(s[..end], NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return null;
        double? factor = s[end..].Trim() switch
        {
            "" or "s" => 1, "ms" => 0.001, "min" => 60, "h" => 3600, "d" => 86400, _ => null,
        };
        return factor is { } f ? (int)Math.Round(n * f) : null;
    }
}
