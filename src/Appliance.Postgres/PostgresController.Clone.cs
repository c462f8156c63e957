using System.Globalization;
using Appliance.Configuration;
using Appliance.Node;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Appliance.Postgres;

/// <summary>Copying a data directory from another member, and clearing or setting aside our own.</summary>
public sealed partial class PostgresController
{
    public async Task CloneAsync(string sourceHost, int sourcePort, CancellationToken ct)
    {
        RefuseWhenRunning("clone");
        PrepareEmptyDataDir();
        Log.Cloning(_log, sourceHost, sourcePort);
        var args = new List<string>
        {
            "-D", DataDir, "-h", sourceHost, "-p", sourcePort.ToString(CultureInfo.InvariantCulture),
            "-U", _pg.Replication.Username, "-X", "stream", "-c", "fast", "--no-password",
        };
        // The password travels in a 0600 pgpass file named by PGPASSFILE: not on the command line, not in
        // the environment (which /proc/<pid>/environ shows to the same user).
        using var pgpass = string.IsNullOrEmpty(_pg.Replication.Password) ? null
            : SecretFile.Create(RunDir, _user, $"*:*:*:{ManagedFiles.EscapePgpass(_pg.Replication.Username)}:{ManagedFiles.EscapePgpass(_pg.Replication.Password)}\n");
        var env = new Dictionary<string, string> { ["PGPASSFILE"] = pgpass?.Path ?? "/dev/null", ["PGCONNECT_TIMEOUT"] = "10" };
        try
        {
            var result = await _cmd.RunAsync("pg_basebackup", args, env, Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
            Log.Command(_log, "pg_basebackup", result.ExitCode);
            result.ThrowOnFailure();
            File.SetUnixFileMode(DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (Exception e)
        {
            EmptyDataDir();
            Log.CloneFailed(_log, e);
            throw;
        }
    }

    public Task WipeDataDirAsync(CancellationToken ct)
    {
        RefuseWhenRunning("wipe the data directory");
        if (Directory.Exists(DataDir))
        {
            EmptyDataDir();
            Log.Wiped(_log, DataDir);
        }
        return Task.CompletedTask;
    }

    public Task<string?> SetAsideDataDirAsync(CancellationToken ct)
    {
        RefuseWhenRunning("set the data directory aside");
        if (!Directory.Exists(DataDir) || !Directory.EnumerateFileSystemEntries(DataDir).Any())
            return Task.FromResult<string?>(null);
        var aside = DataDir + ".diverged";
        if (Directory.Exists(aside)) Directory.Delete(aside, recursive: true);
        Directory.Move(DataDir, aside);
        Log.SetAside(_log, DataDir, aside);
        return Task.FromResult<string?>(aside);
    }
}
