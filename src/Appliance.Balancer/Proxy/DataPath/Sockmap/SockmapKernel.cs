using Appliance.Linux.Bpf;

namespace Appliance.Balancer.Proxy.DataPath.Sockmap;

/// <summary>
/// The sockmap programs of native/sockmap, loaded into the kernel and attached: one per balancer,
/// shared by every listener on the sockmap path. The compiled object is embedded in this binary
/// (resource <c>sockmap.o</c>), so nothing is read from disk. Loading is the start-up probe: it needs
/// a kernel with sockmap (4.18 and later for SOCKHASH) and CAP_BPF with CAP_NET_ADMIN.
/// </summary>
internal sealed class SockmapKernel : IDisposable
{
    /// <summary>The names of native/sockmap/sockmap.h.</summary>
    public const string SocketsMap = "appliance_socks", PeersMap = "appliance_peers", TakenMap = "appliance_taken",
        Verdict = "appliance_verdict";

    readonly BpfObject _object;

    /// <summary>Socket cookie → socket: what the verdict redirects into.</summary>
    public BpfMap Sockets { get; }

    /// <summary>Socket cookie → <see cref="SockmapPeer"/>: where its bytes go, and how many went.</summary>
    public BpfMap Peers { get; }

    /// <summary>Socket cookie → bytes user space forwarded from it (bytes the verdict left on the socket).</summary>
    public BpfMap Taken { get; }

    SockmapKernel(BpfObject loaded)
    {
        _object = loaded;
        Sockets = loaded.Map(SocketsMap);
        Peers = loaded.Map(PeersMap);
        Taken = loaded.Map(TakenMap);
        Sockets.Attach(loaded.Program(Verdict));
    }

    /// <summary>The object embedded in this binary.</summary>
    public static BpfObjectFile Embedded()
    {
        using var s = typeof(SockmapKernel).Assembly.GetManifestResourceStream("sockmap.o")
            ?? throw new BpfException("this binary was built without native/sockmap (resource sockmap.o is missing)");
        var bytes = new byte[s.Length];
        s.ReadExactly(bytes);
        return BpfObjectFile.Parse(bytes);
    }

    /// <summary>Loads and attaches <paramref name="file"/> (the embedded object unless a test passes another); throws <see cref="BpfException"/> saying why it cannot.</summary>
    public static SockmapKernel Load(BpfObjectFile? file = null)
    {
        var loaded = BpfObject.Load(file ?? Embedded());
        try
        {
            return new SockmapKernel(loaded);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    public void Dispose() => _object.Dispose();
}
