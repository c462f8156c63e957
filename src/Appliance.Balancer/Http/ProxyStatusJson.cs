using System.Globalization;
using System.Text.Json;
using Appliance.Balancer.Proxy;

namespace Appliance.Balancer.Http;

/// <summary>
/// <c>GET /proxy</c>: the proxy as JSON, written by hand with <see cref="Utf8JsonWriter"/> (AOT-safe).
/// Field names are a contract for operators' scripts: add, never rename.
/// <code>{"discovery":"etcd","etcd_readable":true,"sees_primary":true,"route_changes":{"leader_changed":2},
///  "listeners":[{"name":"primary","role":"primary","bind":"10.0.0.100:5000","data_path":"copy","accepting":true,
///    "sessions":3,"sessions_total":40,"queue":0,"bytes_in":..,"bytes_out":..,"closed":{"queue_timeout":1},
///    "routed":["db1"],"route_reason":"db1 holds the leader key and reports itself primary",
///    "backends":[{"name":"db1","sessions":3,"sessions_total":40,"bytes_in":..,"bytes_out":..,"connects":40,"connect_failures":0,"connect_seconds":0.01}]}],
///  "checks":[{"backend":"db1","up":true,"role":"primary","last_ok":true,"failed_layer":"none","detail":"..","latency_seconds":0.002,"last_change":"..Z"}]}</code>
/// </summary>
public static class ProxyStatusJson
{
    public static byte[] Write(ProxyStatus s)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("discovery", s.Discovery);
            if (s.EtcdReadable is { } readable) w.WriteBoolean("etcd_readable", readable);
            else w.WriteNull("etcd_readable");
            w.WriteBoolean("sees_primary", s.SeesPrimary);
            Counts(w, "route_changes", s.RouteChanges);
            w.WriteStartArray("listeners");
            foreach (var l in s.Listeners)
            {
                w.WriteStartObject();
                w.WriteString("name", l.Name);
                w.WriteString("role", l.Role);
                w.WriteString("bind", l.Bind);
                w.WriteString("data_path", l.DataPath);
                w.WriteString("data_path_wanted", l.DataPathWanted);
                if (l.DataPathFallback is { } why) w.WriteString("data_path_fallback", why);
                Counts(w, "data_path_sessions", l.Stats.Paths);
                w.WriteBoolean("accepting", l.Accepting);
                w.WriteNumber("sessions", l.Stats.SessionsCurrent);
                w.WriteNumber("sessions_total", l.Stats.SessionsTotal);
                w.WriteNumber("queue", l.Stats.Queued);
                w.WriteNumber("bytes_in", l.Stats.BytesIn);
                w.WriteNumber("bytes_out", l.Stats.BytesOut);
                Counts(w, "closed", l.Stats.Closed);
                w.WriteStartArray("routed");
                foreach (var r in l.Routed) w.WriteStringValue(r);
                w.WriteEndArray();
                w.WriteString("route_reason", l.RouteReason);
                w.WriteStartArray("backends");
                foreach (var b in l.Backends)
                {
                    w.WriteStartObject();
                    w.WriteString("name", b.Name);
                    w.WriteNumber("sessions", b.SessionsCurrent);
                    w.WriteNumber("sessions_total", b.SessionsTotal);
                    w.WriteNumber("bytes_in", b.BytesIn);
                    w.WriteNumber("bytes_out", b.BytesOut);
                    w.WriteNumber("connects", b.Connects);
                    w.WriteNumber("connect_failures", b.ConnectFailures);
                    w.WriteNumber("connect_seconds", b.ConnectSeconds);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("checks");
            foreach (var c in s.Checks.Values.OrderBy(c => c.Backend, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("backend", c.Backend);
                w.WriteBoolean("up", c.Up);
                w.WriteString("role", ProxyMetrics.Word(c.Role));
                w.WriteBoolean("last_ok", c.LastOk);
                w.WriteString("failed_layer", ProxyMetrics.Word(c.LastLayer));
                w.WriteString("detail", c.LastDetail);
                w.WriteNumber("latency_seconds", Math.Round(c.LastLatency.TotalSeconds, 6));
                if (c.LastChange is { } at) w.WriteString("last_change", Time(at));
                else w.WriteNull("last_change");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    static void Counts(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, long> counts)
    {
        w.WriteStartObject(name);
        foreach (var (k, v) in counts.OrderBy(p => p.Key, StringComparer.Ordinal)) w.WriteNumber(k, v);
        w.WriteEndObject();
    }

    internal static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
