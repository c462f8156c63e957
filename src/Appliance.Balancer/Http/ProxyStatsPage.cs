using System.Globalization;
using System.Net;
using System.Text;
using Appliance.Balancer.Proxy;

namespace Appliance.Balancer.Http;

/// <summary>
/// <c>GET /stats</c>: a small read-only HTML page like HAProxy's stats page (without its write actions):
/// one table per listener with its servers, then the health checks. Refreshes itself every 5 s.
/// Every value is HTML-encoded: member names and check details come from the network.
/// </summary>
public static class ProxyStatsPage
{
    public static string Render(ProxyStatus s, DateTimeOffset now)
    {
        var h = new StringBuilder();
        h.Append("<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\"><title>appliance-balancer</title>")
         .Append("<style>body{font:13px sans-serif;margin:1em}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #999;padding:2px 8px;text-align:right}")
         .Append("th{background:#ddd}td:first-child{text-align:left}.up{background:#c8f0c8}.down{background:#f4c0c0}.idle{background:#eee}</style></head><body>");
        h.Append("<h1>appliance-balancer</h1><p>").Append(E($"{Word(now)} · discovery {s.Discovery}"))
         .Append(s.EtcdReadable switch { true => " (etcd readable)", false => " (<b>etcd unreachable: health checks decide</b>)", null => "" })
         .Append(s.SeesPrimary ? " · a primary is routed" : " · <b>no primary routed</b>").Append("</p>");

        foreach (var l in s.Listeners)
        {
            h.Append("<h2>").Append(E(l.Name)).Append("</h2><p>").Append(E($"{l.Role} on {l.Bind}, data path {l.DataPath}"))
             .Append(l.DataPathFallback is { } why ? $" (<b>{E(l.DataPathWanted)} wanted: {E(why)}</b>)" : "")
             .Append(E(l.Stats.Paths.Count > 0 ? $" [sessions by path: {string.Join(", ", l.Stats.Paths.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))}], " : ", "))
             .Append(l.Accepting ? "accepting" : "<b>not accepting</b>").Append(E($" · sessions {l.Stats.SessionsCurrent} (total {l.Stats.SessionsTotal}) · queue {l.Stats.Queued} · "))
             .Append(E(l.RouteReason)).Append("</p>");
            h.Append("<table><tr><th>server</th><th>routed</th><th>check</th><th>sessions</th><th>total</th><th>bytes in</th><th>bytes out</th><th>connects</th><th>failed</th><th>connect ms</th></tr>");
            foreach (var b in l.Backends)
            {
                var routed = l.Routed.Contains(b.Name);
                var check = s.Checks.TryGetValue(b.Name, out var c) ? c : null;
                h.Append("<tr class=\"").Append(routed ? "up" : check is { Up: false } ? "down" : "idle").Append("\"><td>").Append(E(b.Name)).Append("</td><td>").Append(routed ? "yes" : "no")
                 .Append("</td><td>").Append(E(check is null ? "-" : check.Up ? $"UP {ProxyMetrics.Word(check.Role)}" : $"DOWN {ProxyMetrics.Word(check.LastLayer)}"))
                 .Append("</td><td>").Append(b.SessionsCurrent).Append("</td><td>").Append(b.SessionsTotal).Append("</td><td>").Append(b.BytesIn).Append("</td><td>").Append(b.BytesOut)
                 .Append("</td><td>").Append(b.Connects).Append("</td><td>").Append(b.ConnectFailures).Append("</td><td>")
                 .Append(b.Connects == 0 ? "-" : (b.ConnectSeconds * 1000 / b.Connects).ToString("0.00", CultureInfo.InvariantCulture)).Append("</td></tr>");
            }
            h.Append("</table>");
            if (l.Stats.Closed.Count > 0)
                h.Append("<p>closed by the proxy: ").Append(E(string.Join(", ", l.Stats.Closed.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}")))).Append("</p>");
        }

        h.Append("<h2>health checks</h2><table><tr><th>server</th><th>verdict</th><th>role</th><th>last check</th><th>ms</th><th>since</th></tr>");
        foreach (var c in s.Checks.Values.OrderBy(c => c.Backend, StringComparer.Ordinal))
        {
            h.Append("<tr class=\"").Append(c.Up ? "up" : "down").Append("\"><td>").Append(E(c.Backend)).Append("</td><td>").Append(c.Up ? "UP" : "DOWN")
             .Append("</td><td>").Append(ProxyMetrics.Word(c.Role)).Append("</td><td>").Append(E(c.LastOk ? $"ok: {c.LastDetail}" : $"{ProxyMetrics.Word(c.LastLayer)}: {c.LastDetail}"))
             .Append("</td><td>").Append(c.LastLatency.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture))
             .Append("</td><td>").Append(c.LastChange is { } at ? E(Word(at)) : "-").Append("</td></tr>");
        }
        h.Append("</table></body></html>");
        return h.ToString();
    }

    static string E(string text) => WebUtility.HtmlEncode(text);
    static string Word(DateTimeOffset at) => ProxyStatusJson.Time(at);
}
