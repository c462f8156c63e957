using System.Globalization;
using static Tmds.Linux.LibC;

namespace Appliance.Postgres;

/// <summary>
/// The postmaster of a data directory as <c>postmaster.pid</c> describes it, and whether that process
/// is alive. The pid file survives a SIGKILL, so the pid is checked against the kernel: the process
/// must exist, not be a zombie, and be a postgres whose cwd is the data directory (the postmaster
/// chdirs into it), which also guards against a recycled pid.
/// </summary>
static class Postmaster
{
    /// <summary>The PID on the first line of <c>postmaster.pid</c>, or null.</summary>
    public static int? ReadPid(string dataDir)
    {
        string file = Path.Combine(dataDir, "postmaster.pid");
        string? first;
        try
        {
            using var r = new StreamReader(file);
            first = r.ReadLine();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0 ? pid : null;
    }

    /// <summary>The live postmaster's PID for <paramref name="dataDir"/>, or null.</summary>
    public static int? LivePid(string dataDir)
    {
        int? pid = ReadPid(dataDir);
        return pid is int p && IsPostmasterOf(p, dataDir) ? p : null;
    }

    public static bool IsPostmasterOf(int pid, string dataDir)
    {
        if (!IsAlive(pid)) return false;
        try
        {
            string cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            if (!cmdline.Contains("postgres", StringComparison.Ordinal) && !cmdline.Contains("postmaster", StringComparison.Ordinal)) return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        try
        {
            var cwd = new FileInfo($"/proc/{pid}/cwd").LinkTarget;
            if (cwd is not null) return SamePath(cwd, dataDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not ours to inspect (another user, no root): the cmdline check has to do.
        }
        return true;
    }

    /// <summary>kill(pid, 0) succeeds and /proc says it is not a zombie (an unreaped dead postmaster is gone for us).</summary>
    public static bool IsAlive(int pid)
    {
        if (kill(pid, 0) != 0 && errno == ESRCH) return false;
        try
        {
            // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces or parentheses, so take the last ')'.
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static void Signal(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
        {
            int e = errno;
            if (e != ESRCH) throw new PostgresControlException($"kill({pid}, {signal}): errno {e}");
        }
    }

    /// <summary>Same directory: equal paths, or (through symlinks) a data directory whose pid file names the same pid.</summary>
    static bool SamePath(string cwd, string dataDir)
    {
        if (string.Equals(Path.TrimEndingDirectorySeparator(cwd),
                Path.TrimEndingDirectorySeparator(Path.GetFullPath(dataDir)), StringComparison.Ordinal)) return true;
        return ReadPid(cwd) is int a && ReadPid(dataDir) == a;
    }
}
