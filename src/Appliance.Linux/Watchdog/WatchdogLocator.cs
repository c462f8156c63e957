namespace Appliance.Linux.Watchdog;

/// <summary>Where the watchdog is: a device path, or why none was found.</summary>
public sealed record WatchdogLocation(string? DevicePath, string? Error)
{
    public static WatchdogLocation Found(string path) => new(path, null);
    public static WatchdogLocation NotFound(string error) => new(null, error);
}

/// <summary>
/// Picks the watchdog device from <c>[watchdog]</c>: by identity through sysfs, else the configured path.
/// </summary>
/// <remarks>
/// Why by identity: device numbers follow driver probe order, so /dev/watchdog0 may be a BMC's
/// watchdog on one boot and the i6300esb on the next; the identity (the driver's watchdog_info name,
/// exported as /sys/class/watchdog/watchdogN/identity) is stable. /dev/watchdog (no number) is the
/// legacy alias of watchdog0.
/// </remarks>
public static class WatchdogLocator
{
    public const string SysClassWatchdog = "/sys/class/watchdog";
    public const string DevRoot = "/dev";

    /// <summary>
    /// With an <paramref name="identity"/>, the <c>/dev/watchdogN</c> whose sysfs identity equals it
    /// (the lowest N when several do); otherwise <paramref name="device"/> as configured.
    /// </summary>
    /// <param name="device">The configured path, used when no identity is given.</param>
    /// <param name="identity">The wanted identity, or null.</param>
    /// <param name="sysClassWatchdog">The sysfs class folder; tests pass a temporary tree.</param>
    /// <param name="devRoot">Where the device nodes are.</param>
    public static WatchdogLocation Locate(string device, string? identity,
        string sysClassWatchdog = SysClassWatchdog, string devRoot = DevRoot)
    {
        if (string.IsNullOrEmpty(identity)) return WatchdogLocation.Found(device);
        if (!Directory.Exists(sysClassWatchdog))
            return WatchdogLocation.NotFound($"no watchdog named '{identity}': {sysClassWatchdog} does not exist (no watchdog driver loaded)");

        var seen = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(sysClassWatchdog, "watchdog*")
                     .Select(d => (Path: d, Number: NumberOf(Path.GetFileName(d))))
                     .Where(d => d.Number >= 0)
                     .OrderBy(d => d.Number))
        {
            string name = Path.GetFileName(dir.Path);
            string? found = ReadIdentity(Path.Combine(dir.Path, "identity"));
            if (found is null) continue;
            if (found == identity) return WatchdogLocation.Found(Path.Combine(devRoot, name));
            seen.Add($"{name} '{found}'");
        }
        return WatchdogLocation.NotFound(seen.Count == 0
            ? $"no watchdog named '{identity}': {sysClassWatchdog} lists no device"
            : $"no watchdog named '{identity}'; found {string.Join(", ", seen)}");
    }

    private static int NumberOf(string name)
        => int.TryParse(name.AsSpan("watchdog".Length), System.Globalization.NumberStyles.None, null, out int n) ? n : -1;

    private static string? ReadIdentity(string path)
    {
        try
        {
            // sysfs prints the identity followed by a newline.
            return File.ReadAllText(path).TrimEnd('\n', '\0', ' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
