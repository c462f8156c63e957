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
public sealed class DataPaths(TimeProvider time, ILogger log) : IDisposable
{
    readonly Lock _lock = new();
    readonly Dictionary<string, IDataPath> _made = [];
    CopyPath? _copy;
    SplicePath? _splice;
    SockmapKernel? _kernel;
    string? _spliceMissing, _sockmapMissing;

    /// <summary>Why sockmap is not available here (null: it is, or nobody asked yet).</summary>
    public string? SockmapUnavailable { get { lock (_lock) return _sockmapMissing; } }

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
                "auto" => Sockmap() is { } s ? new AutoPath(s, Copy()) : Fallback(name, $"sockmap: {_sockmapMissing}"),
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
            try { _kernel = SockmapKernel.Load(); }
            catch (Exception e) when (e is BpfException or PlatformNotSupportedException) { _sockmapMissing = e.Message; }
        }
        return _kernel is null ? null : new SockmapPath(_kernel, Copy(), time, log);
    }

    public void Dispose()
    {
        _splice?.Dispose();
        _kernel?.Dispose();
    }
}
