using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Appliance.Agent.Ha;
using Appliance.Cluster;
using Appliance.Fencing;
using Appliance.Node;

namespace Appliance.Agent.Api;

/// <summary>The JSON bodies of <c>/patroni</c> and <c>/cluster</c>, field for field as Patroni 3 writes them.</summary>
public static class StatusJson
{
    static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>/patroni</c> (also the body of every health endpoint).</summary>
    public static byte[] Node(
        AgentStatus s, PostgresState pg, string scope, IReadOnlyDictionary<string, JsonTagValue>? tags, WatchdogState? watchdog = null,
        ScheduledRestartData? scheduledRestart = null)
        => Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("state", pg.Accepting ? "running" : s.MemberState == "running" ? "unknown" : s.MemberState);
            if (pg.Accepting)
            {
                if (pg.PostmasterStartTime is { } st) w.WriteString("postmaster_start_time", PgTimestamp(st));
                w.WriteString("role", pg.IsPrimary ? "master" : "replica");
                if (pg.ServerVersion is int v) w.WriteNumber("server_version", v);
                w.WriteStartObject("xlog");
                if (pg.IsPrimary)
                    w.WriteNumber("location", pg.WalPosition ?? 0);
                else
                {
                    w.WriteNumber("received_location", pg.ReceiveLsn ?? pg.ReplayLsn ?? 0);
                    w.WriteNumber("replayed_location", pg.ReplayLsn ?? 0);
                    if (pg.ReplayTimestamp is { } rt) w.WriteString("replayed_timestamp", PgTimestamp(rt));
                    else w.WriteNull("replayed_timestamp");
                    w.WriteBoolean("paused", false);
                }
                w.WriteEndObject();
                if (!pg.IsPrimary && s.SyncStandby) w.WriteBoolean("sync_standby", true);
                if (pg.Timeline is long tl) w.WriteNumber("timeline", tl);
                if (pg.Replication.Length > 0)
                {
                    w.WriteStartArray("replication");
                    foreach (var r in pg.Replication)
                    {
                        w.WriteStartObject();
                        w.WriteString("usename", r.Usename);
                        w.WriteString("application_name", r.ApplicationName);
                        if (r.ClientAddr is null) w.WriteNull("client_addr"); else w.WriteString("client_addr", r.ClientAddr);
                        w.WriteString("state", r.State);
                        w.WriteString("sync_state", r.SyncState);
                        w.WriteNumber("sync_priority", r.SyncPriority);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                }
            }
            else
            {
                w.WriteString("role", pg.DataDirInitialized ? "replica" : "uninitialized");
            }
            if (s.Cluster.Leader is null) w.WriteBoolean("cluster_unlocked", true);
            if (s.Cluster.IsPaused) w.WriteBoolean("pause", true);
            // Patroni shows the request without the start time it compares against.
            if (scheduledRestart is { } sr) WriteScheduledRestart(w, sr with { PostmasterStartTime = null });
            if (s.StoreLastSeen is { } seen) w.WriteNumber("dcs_last_seen", seen.ToUnixTimeSeconds());
            if (pg.SystemId is { } sysid) w.WriteString("database_system_identifier", sysid);
            if (tags is { Count: > 0 })
            {
                w.WriteStartObject("tags");
                foreach (var (k, v) in tags) { w.WritePropertyName(k); v.Value.WriteTo(w); }
                w.WriteEndObject();
            }
            if (pg.PendingRestart)
            {
                w.WriteBoolean("pending_restart", true);
                // The reason, in the shape later Patroni versions use: each setting with its value in force and the one waiting.
                w.WriteStartObject("pending_restart_reason");
                foreach (var p in pg.PendingRestartSettings)
                {
                    w.WriteStartObject(p.Name);
                    w.WriteString("old_value", p.Current);
                    if (p.Pending is null) w.WriteNull("new_value"); else w.WriteString("new_value", p.Pending);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            // Patroni's flag for "required, but the device does not work": peers do not fail over to this node.
            if (watchdog is { Mode: WatchdogMode.Required, Armed: false, LastError: not null }) w.WriteBoolean("watchdog_failed", true);
            if (watchdog is { } wd)
            {
                // Ours: the fencing state an operator checks before trusting a failover.
                w.WriteStartObject("watchdog");
                w.WriteString("mode", wd.Mode.ToString().ToLowerInvariant());
                w.WriteBoolean("armed", wd.Armed);
                if (wd.DevicePath is { } dev) w.WriteString("device", dev);
                if (wd.Identity is { } id) w.WriteString("identity", id);
                if (wd.TimeoutSeconds is int t) w.WriteNumber("timeout", t);
                if (wd.LastFeed is { } fed) w.WriteString("last_feed", PgTimestamp(fed));
                if (wd.LastError is { } err) w.WriteString("last_error", err);
                w.WriteEndObject();
            }
            w.WriteStartObject("patroni");
            w.WriteString("version", MemberPublisher.Version);
            w.WriteString("scope", scope);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    /// <summary><c>/cluster</c>: every member with its role, state, address, timeline and lag.</summary>
    public static byte[] Cluster(ClusterSnapshot c)
        => Write(w =>
        {
            var leader = c.LeaderMember;
            var leaderLsn = c.LastLsn ?? leader?.Data.XlogLocation;
            w.WriteStartObject();
            w.WriteStartArray("members");
            foreach (var m in c.Members.OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                var isLeader = m.Name == c.Leader?.Name;
                w.WriteStartObject();
                w.WriteString("name", m.Name);
                w.WriteString("role", isLeader ? "leader" : "replica");
                w.WriteString("state", m.Data.State);
                w.WriteString("api_url", m.Data.ApiUrl);
                if (m.PostgresEndpoint is { } ep)
                {
                    w.WriteString("host", ep.Host);
                    w.WriteNumber("port", ep.Port);
                }
                if (m.Data.Timeline is long tl) w.WriteNumber("timeline", tl);
                if (m.Data.PendingRestart == true) w.WriteBoolean("pending_restart", true);
                if (!isLeader)
                {
                    if (leaderLsn is long l && m.Data.XlogLocation is long x) w.WriteNumber("lag", Math.Max(0, l - x));
                    else w.WriteString("lag", "unknown");
                }
                if (m.Data.ScheduledRestart is { } sr) WriteScheduledRestart(w, sr);
                if (m.Data.Tags is { Count: > 0 } tags)
                {
                    w.WriteStartObject("tags");
                    foreach (var (k, v) in tags) { w.WritePropertyName(k); v.Value.WriteTo(w); }
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });

    static void WriteScheduledRestart(Utf8JsonWriter w, ScheduledRestartData sr)
    {
        w.WritePropertyName("scheduled_restart");
        JsonSerializer.Serialize(w, sr, ClusterJson.Default.ScheduledRestartData);
    }

    static string PgTimestamp(DateTimeOffset t)
        => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff+00:00", CultureInfo.InvariantCulture);

    static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, Options)) body(w);
        return ms.ToArray();
    }
}
