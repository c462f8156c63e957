using System.Globalization;

namespace Appliance.Bench.Proxy;

/// <summary>What /proc says about one process: CPU time so far (all its threads) and its resident memory now and at its peak.</summary>
public readonly record struct ProcUsage(double CpuSeconds, long RssKb, long HwmKb)
{
    // /proc reports utime and stime in USER_HZ, 100 on Linux whatever the kernel's own HZ.
    const double UserHz = 100;

    /// <summary>Reads <c>/proc/&lt;pid&gt;/stat</c> and <c>/status</c>; null once the process is gone.</summary>
    public static ProcUsage? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces: count fields after its closing parenthesis,
            // where field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var cpu = (long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)) / UserHz;
            long rss = 0, hwm = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kb(line);
            }
            return new ProcUsage(cpu, rss, hwm);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    // "VmRSS:	   12345 kB"
    static long Kb(string line) => long.Parse(line.Split(' ', '\t').Where(s => s.Length > 0).ElementAt(1), CultureInfo.InvariantCulture);
}
