using System.Globalization;
using Appliance.Configuration;
using Appliance.Node;
using Npgsql;

namespace Appliance.Postgres;

/// <summary>Changing roles: following an upstream, promotion, replication slots.</summary>
public sealed partial class PostgresController
{
    public async Task FollowAsync(Upstream upstream, TimeSpan timeout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        if (Postmaster.LivePid(DataDir) is null)
        {
            Log.Following(_log, upstream.Name, "start");
            await StartAsync(upstream, timeout, ct).ConfigureAwait(false);
            return;
        }

        var state = await ProbeAsync(ct).ConfigureAwait(false);
        if (state.IsReplica)
        {
            // PostgreSQL 13+: primary_conninfo and primary_slot_name are reloadable (sighup); on a change
            // the startup process restarts the WAL receiver with the new values. No restart needed.
            if (WriteManagedFiles(upstream, standby: true))
            {
                Log.Following(_log, upstream.Name, "reload");
                await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
                await ExecAsync(conn, "SELECT pg_reload_conf()", ct).ConfigureAwait(false);
            }
            return;
        }

        // A running primary (or one that does not answer) becomes a standby only through a restart.
        Log.Following(_log, upstream.Name, "restart");
        await StopAsync(immediate: false, escalateAfter: timeout / 2, ct).ConfigureAwait(false);
        await StartAsync(upstream, timeout, ct).ConfigureAwait(false);
    }

    public async Task<long> PromoteAsync(TimeSpan timeout, CancellationToken ct)
    {
        Log.Promoting(_log);
        int waitSeconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using (var cmd = new NpgsqlCommand("SELECT pg_promote(true, $1)", conn))
        {
            cmd.CommandTimeout = waitSeconds + 5;
            cmd.Parameters.Add(new NpgsqlParameter { Value = waitSeconds });
            if (await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true)
                throw new TimeoutException($"pg_promote did not finish within {waitSeconds}s");
        }
        // PostgreSQL removed standby.signal itself; the managed file must forget primary_conninfo too,
        // so that the next start is a primary's.
        WriteManagedFiles(upstream: null, standby: false);
        await ExecAsync(conn, "SELECT pg_reload_conf()", ct).ConfigureAwait(false);
        await using (var cmd = new NpgsqlCommand("SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int", conn))
        {
            long timeline = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture);
            Log.Promoted(_log, timeline);
            return timeline;
        }
    }

    public async Task SyncReplicationSlotsAsync(IReadOnlyCollection<string> memberNames, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(memberNames);
        string own = ManagedFiles.SlotName(_member);
        var wanted = memberNames.Select(ManagedFiles.SlotName).Where(n => n != own).ToHashSet(StringComparer.Ordinal);

        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        var existing = new Dictionary<string, bool>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("SELECT slot_name::text, active FROM pg_catalog.pg_replication_slots WHERE slot_type = 'physical'", conn))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) existing[r.GetString(0)] = r.GetBoolean(1);
        }

        foreach (var name in wanted.Where(n => !existing.ContainsKey(n)).Order(StringComparer.Ordinal))
        {
            // immediately_reserve: the slot holds WAL from now on, before the standby first connects.
            await using var cmd = new NpgsqlCommand(
                "SELECT pg_catalog.pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS " +
                "(SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = $1)", conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = name });
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            Log.Slot(_log, name, "created");
        }
        foreach (var (name, active) in existing.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            // An active slot is in use by a walsender: dropping it fails; it goes on a later cycle.
            if (wanted.Contains(name) || active) continue;
            await using var cmd = new NpgsqlCommand(
                "SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots " +
                "WHERE slot_name = $1 AND slot_type = 'physical' AND NOT active", conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = name });
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            Log.Slot(_log, name, "dropped");
        }
    }

    public async Task CheckpointAsync(CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await ExecAsync(conn, "CHECKPOINT", ct).ConfigureAwait(false);
    }

    public async Task ReloadAsync(CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct).ConfigureAwait(false);
        await ExecAsync(conn, "SELECT pg_reload_conf()", ct).ConfigureAwait(false);
    }
}
