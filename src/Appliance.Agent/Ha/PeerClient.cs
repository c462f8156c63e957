using System.Text.Json;
using Appliance.Cluster;
using Appliance.Ha;

namespace Appliance.Agent.Ha;

/// <summary>
/// Asks the other members how far they got (<c>GET /patroni</c>), as Patroni does before a leader
/// race. An unreachable peer is reported as such and does not block the race.
/// </summary>
public sealed class PeerClient(HttpClient http, TimeProvider time) : IPeerClient
{
    public async Task<PeerStatus[]> FetchAsync(IEnumerable<Member> members, TimeSpan timeout, CancellationToken ct)
    {
        using var limit = new CancellationTokenSource(timeout, time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct, limit.Token);
        return await Task.WhenAll(members.Select(m => FetchOneAsync(m, cts.Token)));
    }

    async Task<PeerStatus> FetchOneAsync(Member m, CancellationToken ct)
    {
        try
        {
            using var resp = await http.GetAsync(m.Data.ApiUrl, ct);
            await using var body = await resp.Content.ReadAsStreamAsync(ct);
            using var doc = await JsonDocument.ParseAsync(body, cancellationToken: ct);
            return Parse(m.Name, doc.RootElement);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException or InvalidOperationException)
        {
            return PeerStatus.Unreachable(m.Name);
        }
    }

    /// <summary>Reads Patroni's <c>/patroni</c> JSON: role, WAL position (received, else replayed, else location), timeline and tags.</summary>
    internal static PeerStatus Parse(string name, JsonElement root)
    {
        var role = root.TryGetProperty("role", out var r) ? r.GetString() : null;
        long? wal = null;
        if (root.TryGetProperty("xlog", out var x))
        {
            foreach (var key in new[] { "received_location", "replayed_location", "location" })
                if (x.TryGetProperty(key, out var v) && v.TryGetInt64(out var n)) wal = Math.Max(wal ?? 0, n);
        }
        var noFailover = false;
        var priority = 1;
        if (root.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Object)
        {
            noFailover = tags.TryGetProperty("nofailover", out var nf) && nf.ValueKind == JsonValueKind.True;
            if (tags.TryGetProperty("failover_priority", out var fp) && fp.TryGetInt32(out var p)) priority = p;
        }
        // Patroni's failover_limitation "not watchdog capable": a peer that may not lead must not win the race.
        if (root.TryGetProperty("watchdog_failed", out var wf) && wf.ValueKind == JsonValueKind.True) noFailover = true;
        var running = root.TryGetProperty("state", out var st) && st.GetString() == "running";
        // failover_priority 0 means "never promote" (Patroni 3.2): such a peer must not hold back the race either.
        long? timeline = root.TryGetProperty("timeline", out var tl) && tl.TryGetInt64(out var t) ? t : null;
        return new PeerStatus(name, running, role is null ? null : role is not ("master" or "primary"), wal, noFailover || priority <= 0, priority, timeline);
    }
}
