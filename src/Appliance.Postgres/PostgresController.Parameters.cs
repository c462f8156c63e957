using Appliance.Node;
using Microsoft.Extensions.Logging;

namespace Appliance.Postgres;

/// <summary>The cluster's dynamic parameters: remembered for every start, applied to a running server by a reload.</summary>
public sealed partial class PostgresController
{
    static readonly TimeSpan ReloadTimeout = TimeSpan.FromSeconds(5);

    static readonly Action<ILogger, string, Exception?> s_parametersReloaded =
        LoggerMessage.Define<string>(LogLevel.Information, new EventId(40, "ParametersReloaded"), "configuration changed ({Settings}): reloading PostgreSQL");
    static readonly Action<ILogger, Exception?> s_parametersDeferred =
        LoggerMessage.Define(LogLevel.Debug, new EventId(41, "ParametersDeferred"), "dynamic parameters changed while this standby's upstream is not known yet: applied when it is next configured");

    /// <summary>The role the managed files were last written for by this process: a rewrite keeps it.</summary>
    sealed record WrittenRole(Upstream? Upstream, bool Standby);

    volatile IReadOnlyDictionary<string, string> _dynamicParameters = new Dictionary<string, string>();
    volatile WrittenRole? _written;

    public async Task<bool> ApplyDynamicParametersAsync(IReadOnlyDictionary<string, string> parameters, bool reload, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _dynamicParameters = parameters;
        if (!reload || Postmaster.LivePid(DataDir) is null) return false;

        // After an agent restart beside a running server nothing was written yet: a primary's files are
        // known (no upstream); a standby's upstream is not, and rewriting would drop its primary_conninfo.
        // The follow a restarted agent does first writes the files, with these parameters.
        var role = _written ?? (File.Exists(Path.Combine(DataDir, "standby.signal")) ? null : new WrittenRole(null, false));
        if (role is null)
        {
            s_parametersDeferred(_log, null);
            return false;
        }

        // Every cycle: one small read, and nothing more unless the rendered file differs.
        string path = Path.Combine(DataDir, ManagedFiles.ConfFileName);
        string before = File.Exists(path) ? await File.ReadAllTextAsync(path, ct).ConfigureAwait(false) : "";
        string after = ManagedFiles.RenderConf(_pg, _member, RunDir, role.Upstream, parameters);
        if (before == after || !WriteManagedFiles(role.Upstream, role.Standby)) return false;
        s_parametersReloaded(_log, string.Join(", ", ManagedFiles.ChangedSettings(before, after)), null);

        // Bounded on its own: it runs inside an HA cycle. Whether a setting now waits for a restart shows
        // in the next probe (pg_settings.pending_restart), once the postmaster has re-read the file.
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(ReloadTimeout);
        await using var conn = await _db.OpenConnectionAsync(cts.Token).ConfigureAwait(false);
        await ExecAsync(conn, "SELECT pg_reload_conf()", cts.Token).ConfigureAwait(false);
        return true;
    }
}
