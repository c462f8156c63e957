using System.Globalization;
using System.Text;
using Appliance.Node;
using Npgsql;

namespace Appliance.Postgres;

/// <summary>The files the agent owns in and beside the data directory.</summary>
public sealed partial class PostgresController
{
    /// <summary>
    /// Writes the managed files for the role; true when <see cref="ManagedFiles.ConfFileName"/> changed.
    /// <paramref name="standby"/> decides standby.signal: a standby may have no upstream yet (it then replays
    /// its own WAL and waits), which must never make it a primary.
    /// </summary>
    bool WriteManagedFiles(Upstream? upstream, bool standby)
    {
        EnsureRunDir();
        if (Encoding.UTF8.GetByteCount(Path.Combine(RunDir, ".s.PGSQL." + _pg.Port.ToString(CultureInfo.InvariantCulture) + ".lock")) > 107)
            throw new PostgresControlException($"socket path under {RunDir} is longer than a unix socket address allows (107 bytes): use a shorter data_dir");

        string confPath = Path.Combine(DataDir, "postgresql.conf");
        if (File.Exists(confPath) && ManagedFiles.WithInclude(File.ReadAllText(confPath)) is string withInclude)
            WriteOwned(confPath, withInclude);

        bool changed = WriteOwned(Path.Combine(DataDir, ManagedFiles.ConfFileName),
            ManagedFiles.RenderConf(_pg, _member, RunDir, upstream, _dynamicParameters));
        _written = new WrittenRole(upstream, standby);
        WriteOwned(Path.Combine(DataDir, "pg_hba.conf"), ManagedFiles.RenderHba(_pg));
        WriteOwned(Path.Combine(DataDir, "pg_ident.conf"), ManagedFiles.RenderIdent(_pg));

        string signal = Path.Combine(DataDir, "standby.signal");
        if (standby)
        {
            if (!File.Exists(signal)) WriteOwned(signal, "");
        }
        else
        {
            File.Delete(signal);
        }
        return changed;
    }

    /// <summary>Atomically replaces <paramref name="path"/> (0600, run-as user); false when the content was already so.</summary>
    bool WriteOwned(string path, string content)
    {
        try
        {
            if (File.Exists(path) && File.ReadAllText(path) == content) return false;
        }
        catch (IOException) { }
        string tmp = path + ".appliance-tmp";
        File.Delete(tmp);
        using (var fs = new FileStream(tmp, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            var bytes = Encoding.UTF8.GetBytes(content);
            fs.Write(bytes);
            fs.Flush(flushToDisk: true);
        }
        _user.Own(tmp);
        File.Move(tmp, path, overwrite: true);
        return true;
    }

    void EnsureRunDir()
    {
        if (!Directory.Exists(RunDir))
        {
            Directory.CreateDirectory(RunDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }
        _user.Own(RunDir);
    }

    void EnsureLogFile()
    {
        if (!File.Exists(LogFile))
        {
            using var _ = new FileStream(LogFile, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
            });
        }
        _user.Own(LogFile);
    }

    /// <summary>Creates the data directory (and a missing parent) for the run-as user, mode 0700; it must be empty.</summary>
    void PrepareEmptyDataDir()
    {
        string parent = Path.GetDirectoryName(DataDir) ?? "/";
        if (!Directory.Exists(parent))
        {
            Directory.CreateDirectory(parent);
            _user.Own(parent);
        }
        if (!Directory.Exists(DataDir))
            Directory.CreateDirectory(DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        else if (Directory.EnumerateFileSystemEntries(DataDir).Any())
            throw new PostgresControlException($"{DataDir} is not empty");
        File.SetUnixFileMode(DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _user.Own(DataDir);
        EnsureRunDir();
    }

    void EmptyDataDir()
    {
        foreach (var entry in new DirectoryInfo(DataDir).EnumerateFileSystemInfos())
        {
            // A symlink (pg_wal elsewhere, a tablespace) is removed as a link; its target is left alone.
            if (entry is DirectoryInfo d && d.LinkTarget is null) d.Delete(recursive: true);
            else entry.Delete();
        }
    }

    void RefuseWhenRunning(string what)
    {
        if (Postmaster.LivePid(DataDir) is int pid)
            throw new PostgresControlException($"cannot {what}: postmaster {pid} is running on {DataDir}");
    }

    /// <summary>
    /// A postmaster.pid whose pid is not a live postmaster of this directory (SIGKILL, power loss). PostgreSQL
    /// would refuse to start if that pid now belongs to some other live process, so it goes.
    /// </summary>
    void RemoveStaleLocks()
    {
        string file = Path.Combine(DataDir, "postmaster.pid");
        if (File.Exists(file))
        {
            Log.StaleLock(_log, Postmaster.ReadPid(DataDir));
            File.Delete(file);
        }
        // The socket lock names the dead postmaster too. PostgreSQL trusts kill(pid, 0), which succeeds
        // while a killed postmaster is an unreaped zombie (an init that reaps late): it would refuse to
        // start until then. The socket folder is this data dir's alone and no postmaster runs on it.
        if (Directory.Exists(RunDir))
            foreach (var stale in Directory.EnumerateFiles(RunDir, ".s.PGSQL.*.lock"))
                File.Delete(stale);
    }

    string LogTail(int lines = 20)
    {
        try
        {
            var all = File.ReadAllLines(LogFile);
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"(no log at {LogFile})";
        }
    }

    static async Task ExecAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
