namespace Appliance.Postgres;

/// <summary>Synchronous replication: the one setting the leader changes while it runs.</summary>
public sealed partial class PostgresController
{
    public async Task SetSynchronousStandbyNamesAsync(string value, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(value);
        EnsureRunDir();
        if (!WriteOwned(Path.Combine(DataDir, ManagedFiles.SyncConfFileName), ManagedFiles.RenderSyncConf(value))) return;
        Log.SynchronousStandbyNames(_log, value);
        if (Postmaster.LivePid(DataDir) is null) return;
        await ReloadAsync(ct).ConfigureAwait(false);
    }
}
