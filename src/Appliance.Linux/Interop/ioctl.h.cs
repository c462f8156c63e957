namespace Appliance.Linux.Interop;

/// <summary>
/// The ioctl number macros of &lt;asm-generic/ioctl.h&gt; (x86-64, arm64: the generic layout), so that
/// the numbers of other headers are computed the way C computes them rather than copied as magic
/// hex. Tmds.LibC 0.5.0 has the ioctl(2) call but not these macros.
/// </summary>
internal static class IoctlH
{
    // Bit layout of a command: nr (8) | type (8) | size (14) | dir (2). powerpc, mips, sparc and
    // parisc differ; the appliance ships for x86-64 (and arm64, which uses the generic layout).
    public const int _IOC_NRBITS = 8;
    public const int _IOC_TYPEBITS = 8;
    public const int _IOC_SIZEBITS = 14;
    public const int _IOC_NRSHIFT = 0;
    public const int _IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS;
    public const int _IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS;
    public const int _IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS;

    public const uint _IOC_NONE = 0;
    public const uint _IOC_WRITE = 1;
    public const uint _IOC_READ = 2;

    public static uint _IOC(uint dir, char type, uint nr, uint size)
        => (dir << _IOC_DIRSHIFT) | ((uint)type << _IOC_TYPESHIFT) | (nr << _IOC_NRSHIFT) | (size << _IOC_SIZESHIFT);

    /// <summary>The kernel copies <paramref name="size"/> bytes out to the caller.</summary>
    public static uint _IOR(char type, uint nr, uint size) => _IOC(_IOC_READ, type, nr, size);

    /// <summary>The kernel copies <paramref name="size"/> bytes in, then out again.</summary>
    public static uint _IOWR(char type, uint nr, uint size) => _IOC(_IOC_READ | _IOC_WRITE, type, nr, size);
}
