using System.Runtime.InteropServices;
using System.Text;
using Appliance.Linux.Interop;
using static Tmds.Linux.LibC;

namespace Appliance.Linux.Bpf;

/// <summary>
/// The bpf(2) commands the sockmap path needs, each filling a zeroed <c>bpf_attr</c> and returning a
/// descriptor or throwing <see cref="BpfException"/>. Called through Tmds.LibC's <c>syscall</c>: glibc has no
/// bpf() wrapper, and libbpf would add a shared library to a trimmed binary for five commands.
/// </summary>
internal static unsafe class BpfSyscall
{
    static int Number => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 321,
        Architecture.Arm64 => 280,
        var a => throw new PlatformNotSupportedException($"bpf(2) syscall number for {a}"),
    };

    static long Call(int cmd, byte* attr) => (long)syscall(Number, cmd, attr, BpfH.AttrSize);

    static void Put32(byte* attr, int offset, uint value) => *(uint*)(attr + offset) = value;
    static void Put64(byte* attr, int offset, ulong value) => *(ulong*)(attr + offset) = value;

    static void PutName(byte* attr, int offset, string name)
    {
        var bytes = Encoding.ASCII.GetBytes(name);
        int n = Math.Min(bytes.Length, BpfH.BPF_OBJ_NAME_LEN - 1);
        for (int i = 0; i < n; i++) attr[offset + i] = bytes[i];
    }

    public static int MapCreate(string name, uint type, uint keySize, uint valueSize, uint maxEntries, uint flags)
    {
        byte* attr = stackalloc byte[BpfH.AttrSize];
        new Span<byte>(attr, BpfH.AttrSize).Clear();
        Put32(attr, BpfH.MapCreate.map_type, type);
        Put32(attr, BpfH.MapCreate.key_size, keySize);
        Put32(attr, BpfH.MapCreate.value_size, valueSize);
        Put32(attr, BpfH.MapCreate.max_entries, maxEntries);
        Put32(attr, BpfH.MapCreate.map_flags, flags);
        PutName(attr, BpfH.MapCreate.map_name, name);
        long fd = Call(BpfH.BPF_MAP_CREATE, attr);
        if (fd < 0) throw new BpfException($"creating map {name}", errno);
        return (int)fd;
    }

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/>; −errno or 0 (a sockmap insert fails as a value: the caller falls back).</summary>
    public static int MapUpdate(int mapFd, void* key, void* value, ulong flags)
    {
        byte* attr = stackalloc byte[BpfH.AttrSize];
        new Span<byte>(attr, BpfH.AttrSize).Clear();
        Put32(attr, BpfH.MapElem.map_fd, (uint)mapFd);
        Put64(attr, BpfH.MapElem.key, (ulong)key);
        Put64(attr, BpfH.MapElem.value, (ulong)value);
        Put64(attr, BpfH.MapElem.flags, flags);
        return Call(BpfH.BPF_MAP_UPDATE_ELEM, attr) < 0 ? -errno : 0;
    }

    /// <summary>Copies the value of <paramref name="key"/> into <paramref name="value"/>; false when there is none.</summary>
    public static bool MapLookup(int mapFd, void* key, void* value)
    {
        byte* attr = stackalloc byte[BpfH.AttrSize];
        new Span<byte>(attr, BpfH.AttrSize).Clear();
        Put32(attr, BpfH.MapElem.map_fd, (uint)mapFd);
        Put64(attr, BpfH.MapElem.key, (ulong)key);
        Put64(attr, BpfH.MapElem.value, (ulong)value);
        if (Call(BpfH.BPF_MAP_LOOKUP_ELEM, attr) == 0) return true;
        int e = errno;
        if (e == ENOENT) return false;
        throw new BpfException("looking up a map element", e);
    }

    /// <summary>The key after <paramref name="key"/> (the first when null) into <paramref name="next"/>; false after the last.</summary>
    public static bool MapNextKey(int mapFd, void* key, void* next)
    {
        byte* attr = stackalloc byte[BpfH.AttrSize];
        new Span<byte>(attr, BpfH.AttrSize).Clear();
        Put32(attr, BpfH.MapElem.map_fd, (uint)mapFd);
        Put64(attr, BpfH.MapElem.key, (ulong)key);
        Put64(attr, BpfH.MapElem.value, (ulong)next);
        if (Call(BpfH.BPF_MAP_GET_NEXT_KEY, attr) == 0) return true;
        int e = errno;
        if (e == ENOENT) return false;
        throw new BpfException("walking a map's keys", e);
    }

    /// <summary>Removes <paramref name="key"/>; false when it was not there.</summary>
    public static bool MapDelete(int mapFd, void* key)
    {
        byte* attr = stackalloc byte[BpfH.AttrSize];
        new Span<byte>(attr, BpfH.AttrSize).Clear();
        Put32(attr, BpfH.MapElem.map_fd, (uint)mapFd);
        Put64(attr, BpfH.MapElem.key, (ulong)key);
        if (Call(BpfH.BPF_MAP_DELETE_ELEM, attr) == 0) return true;
        int e = errno;
        if (e == ENOENT) return false;
        throw new BpfException("deleting a map element", e);
    }

    /// <summary>Loads a program; on rejection loads it again with the verifier's log on, so the error says why.</summary>
    public static int ProgLoad(string name, uint type, uint expectedAttachType, ReadOnlySpan<byte> instructions, string license)
    {
        var licenseBytes = Encoding.ASCII.GetBytes(license + "\0");
        fixed (byte* insns = instructions)
        fixed (byte* lic = licenseBytes)
        {
            uint count = (uint)(instructions.Length / 8);
            long fd = Load(name, type, expectedAttachType, insns, count, lic, null, 0);
            if (fd >= 0) return (int)fd;
            int e = errno;
            string log = "";
            if (e == EACCES || e == EINVAL)
            {
                const int LogSize = 64 * 1024;
                var buffer = new byte[LogSize];
                fixed (byte* b = buffer)
                {
                    fd = Load(name, type, expectedAttachType, insns, count, lic, b, LogSize);
                    if (fd >= 0) return (int)fd; // accepted the second time: nothing to report
                    e = errno;
                }
                int end = Array.IndexOf(buffer, (byte)0);
                log = Encoding.ASCII.GetString(buffer, 0, end < 0 ? buffer.Length : end);
            }
            throw new BpfException($"loading program {name}", e, log);
        }
    }

    static long Load(string name, uint type, uint expectedAttachType, byte* insns, uint count, byte* license, byte* logBuf, uint logSize)
    {
        byte* attr = stackalloc byte[BpfH.AttrSize];
        new Span<byte>(attr, BpfH.AttrSize).Clear();
        Put32(attr, BpfH.ProgLoad.prog_type, type);
        Put32(attr, BpfH.ProgLoad.insn_cnt, count);
        Put64(attr, BpfH.ProgLoad.insns, (ulong)insns);
        Put64(attr, BpfH.ProgLoad.license, (ulong)license);
        if (logBuf != null)
        {
            Put32(attr, BpfH.ProgLoad.log_level, 1);
            Put32(attr, BpfH.ProgLoad.log_size, logSize);
            Put64(attr, BpfH.ProgLoad.log_buf, (ulong)logBuf);
        }
        PutName(attr, BpfH.ProgLoad.prog_name, name);
        Put32(attr, BpfH.ProgLoad.expected_attach_type, expectedAttachType);
        return Call(BpfH.BPF_PROG_LOAD, attr);
    }

    public static void ProgAttach(int targetFd, int progFd, uint attachType, string what)
    {
        byte* attr = stackalloc byte[BpfH.AttrSize];
        new Span<byte>(attr, BpfH.AttrSize).Clear();
        Put32(attr, BpfH.ProgAttach.target_fd, (uint)targetFd);
        Put32(attr, BpfH.ProgAttach.attach_bpf_fd, (uint)progFd);
        Put32(attr, BpfH.ProgAttach.attach_type, attachType);
        if (Call(BpfH.BPF_PROG_ATTACH, attr) < 0) throw new BpfException($"attaching {what}", errno);
    }
}
