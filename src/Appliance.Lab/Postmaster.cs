namespace Appliance.Lab;

/// <summary>The postmaster of a data directory, for faults and clean-up by PID.</summary>
public static class Postmaster
{
    /// <summary>The PID in <c>postmaster.pid</c>, while that process lives; null when PostgreSQL is not running.</summary>
    public static int? PidOf(string dataDir)
    {
        try
        {
            var first = File.ReadLines(Path.Combine(dataDir, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, out var pid) && Directory.Exists($"/proc/{pid}") ? pid : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
