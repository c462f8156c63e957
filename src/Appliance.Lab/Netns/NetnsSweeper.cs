using Tmds.Linux;

namespace Appliance.Lab.Netns;

/// <summary>
/// Removes what crashed runs of this harness left behind: namespaces and folders named
/// <c>apl-&lt;pid&gt;-&lt;hex&gt;…</c> (<see cref="NetnsName"/>) whose owner PID is no longer alive, with
/// the processes still running inside those namespaces. Every other namespace, folder and process is
/// left alone, including topologies of live runs.
/// </summary>
public static class NetnsSweeper
{
    const string NetnsDir = "/run/netns";

    /// <summary>Sweeps and returns the names it removed.</summary>
    public static async Task<IReadOnlyList<string>> SweepAsync()
    {
        var removed = new List<string>();
        var stale = Directory.Exists(NetnsDir)
            ? Directory.GetFiles(NetnsDir).Select(Path.GetFileName).OfType<string>()
                .Where(n => NetnsName.Parse(n) is { OwnerAlive: false }).ToList()
            : [];
        foreach (var ns in stale)
        {
            await KillAllInAsync(ns);
            if ((await Command.RunAsync("ip", ["netns", "del", ns])).Ok) removed.Add(ns);
        }
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath()))
        {
            if (NetnsName.Parse(Path.GetFileName(dir)) is not { OwnerAlive: false }) continue;
            try
            {
                Directory.Delete(dir, recursive: true);
                removed.Add(dir);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>
    /// SIGKILLs every process in namespace <paramref name="netns"/> by PID (daemons' children and
    /// anything a run left there) and waits briefly until none is left.
    /// </summary>
    internal static async Task KillAllInAsync(string netns)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var pids = (await Command.RunAsync("ip", ["netns", "pids", netns])).Output
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
            if (pids.Count == 0) return;
            foreach (var pid in pids) _ = LibC.kill(pid, LibC.SIGKILL);
            await Task.Delay(100);
        }
    }
}
