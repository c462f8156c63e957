using Appliance.Balancer.Proxy.DataPath.Sockmap;
using Appliance.Linux.Bpf;
using Appliance.Linux.Net;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy.DataPath;

/// <summary>
/// The data paths of one balancer, made on first use and shared by its listeners: <c>copy</c> always
/// works; <c>splice</c> and <c>sockmap</c> are probed once (splice(2) exists; the sockmap programs load
/// and attach, which needs the kernel's sockmap and CAP_BPF). A path that is not available here is
/// replaced by <c>copy</c>, and said once in the log with the reason.
/// </summary>
/// <param name="time">The clock of the sessions' timeouts.</param>
/// <param name="log">Where a fallback is said.</param>
/// <param name="loadSockmap">Loads the sockmap programs (the embedded object; tests pass a broken one).</param>
internal sealed class DataPaths(TimeProvider time, ILogger log, Func<SockmapKernel>? loadSockmap = null) : IDisposable
{
    readonly Lock _lock = new();
    readonly Dictionary<string, IDataPath> _made = [];
    CopyPath? _copy;
    SplicePath? _splice;
    SockmapKernel? _kernel;
    SockmapPath? _sockmap;
    string? _spliceMissing, _sockmapMissing;

    /// <summary>Why <c>data_path = <paramref name="name"/></c> fell back to copy (null when it did not, or was not asked for).</summary>
    public string? Unavailable(string name)
    {
        lock (_lock)
        {
            return name switch
            {
                "sockmap" or "auto" => _sockmapMissing is null ? null : $"sockmap is not available: {_sockmapMissing}",
                "splice" => _spliceMissing is null ? null : $"splice is not available: {_spliceMissing}",
                _ => null,
            };
        }
    }

    /// <summary>The path for <c>data_path = <paramref name="name"/></c> (<c>auto</c>, <c>sockmap</c>, <c>splice</c>, <c>copy</c>).</summary>
    public IDataPath For(string name)
    {
        lock (_lock)
        {
            if (_made.TryGetValue(name, out var made)) return made;
            IDataPath path = name switch
            {
                "sockmap" => (IDataPath?)Sockmap() ?? Fallback(name, _sockmapMissing!),
                "splice" => (IDataPath?)Splice() ?? Fallback(name, _spliceMissing!),
                "auto" => Sockmap() is { } s ? new AutoPath(s, Copy()) : Fallback(name, _sockmapMissing!),
                _ => Copy(),
            };
            _made[name] = path;
            return path;
        }
    }

    CopyPath Fallback(string wanted, string why)
    {
        log.DataPathFallback(wanted, why, "copy");
        return Copy();
    }

    CopyPath Copy() => _copy ??= new CopyPath(time);

    SplicePath? Splice()
    {
        if (_splice is not null || _spliceMissing is not null) return _splice;
        if (SplicePipe.IsAvailable(out var why)) return _splice = new SplicePath(time);
        _spliceMissing = why;
        return null;
    }

    SockmapPath? Sockmap()
    {
        if (_kernel is null && _sockmapMissing is null)
        {
            try { _kernel = (loadSockmap ?? (() => SockmapKernel.Load()))(); }
            catch (Exception e) when (e is BpfException or PlatformNotSupportedException) { _sockmapMissing = e.Message; }
        }
        return _kernel is null ? null : _sockmap ??= new SockmapPath(_kernel, Copy(), time, log);
    }

    /// <summary>Entries in the sockmap's three maps now (0 when it is not loaded): every session that ended has taken its own out.</summary>
    internal int SockmapEntries { get { lock (_lock) return _kernel is null ? 0 : _kernel.Sockets.Count<ulong>() + _kernel.Peers.Count<ulong>() + _kernel.Taken.Count<ulong>(); } }

    public void Dispose()
    {
        _splice?.Dispose();
        _sockmap?.Dispose();
        _kernel?.Dispose();
    }
}
