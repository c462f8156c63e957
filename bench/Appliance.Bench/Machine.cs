using System.Globalization;

namespace Appliance.Bench;

/// <summary>What a benchmark records about the machine it ran on: shared machines drift, and the numbers are only as good as the quiet they had.</summary>
public static class Machine
{
    /// <summary>"2 cores (AMD EPYC ...), Linux 6.18".</summary>
    public static async Task<string> DescribeAsync()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var kernel = (await File.ReadAllTextAsync("/proc/sys/kernel/osrelease")).Trim();
        return $"{Environment.ProcessorCount} cores ({model}), Linux {kernel}";
    }

    /// <summary>The 1, 5 and 15 minute load averages.</summary>
    public static string Load() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    /// <summary>The median; null for no values.</summary>
    public static double? Median(IEnumerable<double> values)
    {
        var v = values.Order().ToList();
        return v.Count == 0 ? null : v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }

    public static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
