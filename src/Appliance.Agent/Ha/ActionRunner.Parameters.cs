using Appliance.Cluster;
using Appliance.Ha;

namespace Appliance.Agent.Ha;

/// <summary>The cluster's dynamic PostgreSQL parameters, applied by every node each cycle.</summary>
public sealed partial class ActionRunner
{
    string _ignoredLogged = "";
    string _pendingLogged = "";

    /// <summary>
    /// Before acting: hands <c>postgresql.parameters</c> of the <c>config</c> key to the controller (so the
    /// decision's start or follow writes them) and, when no background action runs, reloads a running
    /// PostgreSQL whose managed file they change. Logs, once per change, values that cannot be settings and
    /// the settings that wait for a restart. Only with a snapshot read this cycle: a node cut off from etcd
    /// keeps what it has rather than falling back to its local settings.
    /// </summary>
    public async Task ApplyDynamicParametersAsync(Observation o, CancellationToken stop)
    {
        if (!o.StoreReachable) return;
        var dynamic = DynamicParameters.From(o.Cluster.ConfigJson);
        var ignored = string.Join(", ", dynamic.Ignored);
        if (ignored != _ignoredLogged)
        {
            if (ignored.Length > 0) log.Warn($"dynamic configuration: ignoring postgresql.parameters that are not strings, numbers or booleans: {ignored}");
            _ignoredLogged = ignored;
        }

        var pending = string.Join(", ", o.Postgres.PendingRestartSettings.Select(p => $"{p.Name} ({p.Current} -> {p.Pending ?? "default"})"));
        if (pending != _pendingLogged)
        {
            log.Info(pending.Length > 0 ? $"PostgreSQL needs a restart to apply: {pending} (pending_restart)" : "no restart is pending any more");
            _pendingLogged = pending;
        }

        try
        {
            await postgres.ApplyDynamicParametersAsync(dynamic.Values, reload: _running is null && o.Postgres.Accepting, stop);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            log.ActionFailed("applying the dynamic parameters", e.Message);
        }
    }
}
