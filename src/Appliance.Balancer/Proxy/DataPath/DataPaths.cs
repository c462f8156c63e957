using Appliance.Linux.Net;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy.DataPath;

/// <summary>Picks the data path <c>proxy.data_path</c> names.</summary>
public static class DataPaths
{
    /// <summary><c>splice</c> when asked for and the kernel allows it (else <c>copy</c>, said once in the log); <c>copy</c> otherwise.</summary>
    public static IDataPath Create(string name, TimeProvider time, ILogger log)
    {
        if (name != "splice") return new CopyPath(time);
        if (SplicePipe.IsAvailable(out var why)) return new SplicePath(time);
        log.DataPathFallback(why);
        return new CopyPath(time);
    }
}
