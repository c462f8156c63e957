namespace Appliance.TestKit;

/// <summary>
/// Named capabilities of the machine the tests run on. A capability that the kernel and the test's
/// privileges should have is expected: the tests that need it then run, and fail (never skip) if the
/// feature turns out missing. Only a machine that cannot have it leaves those cases out, saying why.
/// </summary>
public static class KernelCapabilities
{
    /// <summary>The oldest kernel the appliance ships for (Debian 12 has 6.1); sockmap with a stream parser and SOCKHASH is older.</summary>
    static readonly Version SockmapKernel = new(5, 10);

    /// <summary>
    /// The sockmap data path should work here: Linux 5.10 or later and root (CAP_BPF, CAP_NET_ADMIN).
    /// When true, the data-path suite runs against sockmap and a balancer that cannot load it fails the test.
    /// </summary>
    public static bool Sockmap => SockmapMissing is null;

    /// <summary>Why <see cref="Sockmap"/> is not expected here, or null.</summary>
    public static string? SockmapMissing
    {
        get
        {
            if (!OperatingSystem.IsLinux()) return "not Linux";
            if (Environment.OSVersion.Version < SockmapKernel) return $"kernel {Environment.OSVersion.Version} is older than {SockmapKernel}";
            if (Environment.UserName != "root") return "not root (no CAP_BPF)";
            return null;
        }
    }
}
