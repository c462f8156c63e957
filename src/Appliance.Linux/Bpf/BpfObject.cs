using Appliance.Linux.Interop;
using static Tmds.Linux.LibC;

namespace Appliance.Linux.Bpf;

/// <summary>
/// A BPF object in the kernel: its maps created and its programs loaded, each program's map loads
/// pointed at this object's maps. Looked up by name; a missing name is an error that lists the names
/// there are. Disposing closes every descriptor (the kernel frees a map once no program or socket
/// holds it).
/// </summary>
public sealed class BpfObject : IDisposable
{
    readonly Dictionary<string, BpfMap> _maps;
    readonly Dictionary<string, BpfProgram> _programs;

    BpfObject(Dictionary<string, BpfMap> maps, Dictionary<string, BpfProgram> programs) => (_maps, _programs) = (maps, programs);

    /// <summary>Creates the maps and loads the programs of <paramref name="file"/>; throws <see cref="BpfException"/> (with the verifier's log when it refused a program), leaving nothing behind.</summary>
    public static BpfObject Load(BpfObjectFile file)
    {
        var maps = new Dictionary<string, BpfMap>();
        var programs = new Dictionary<string, BpfProgram>();
        try
        {
            foreach (var m in file.Maps)
                maps[m.Name] = new BpfMap(m.Name, BpfSyscall.MapCreate(m.Name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.Flags));
            foreach (var p in file.Programs)
            {
                var (type, attach) = TypeOf(p);
                var insns = p.Instructions.ToArray();
                foreach (var (at, map) in p.MapReferences)
                {
                    if (!maps.TryGetValue(map, out var target)) throw new BpfException($"program {p.Name} refers to map {map}, which the object does not define");
                    insns[at * 8 + 1] = (byte)((insns[at * 8 + 1] & 0x0f) | (BpfH.BPF_PSEUDO_MAP_FD << 4));
                    BitConverter.TryWriteBytes(insns.AsSpan(at * 8 + 4, 4), target.Fd);
                }
                programs[p.Name] = new BpfProgram(p.Name, attach, BpfSyscall.ProgLoad(p.Name, type, attach, insns, file.License));
            }
            return new BpfObject(maps, programs);
        }
        catch
        {
            foreach (var p in programs.Values) p.Dispose();
            foreach (var m in maps.Values) m.Dispose();
            throw;
        }
    }

    /// <summary>The program type and attach point a section name stands for (libbpf's naming).</summary>
    static (uint Type, uint Attach) TypeOf(BpfProgramDefinition p) => p.Section switch
    {
        "sk_skb/stream_verdict" => (BpfH.BPF_PROG_TYPE_SK_SKB, BpfH.BPF_SK_SKB_STREAM_VERDICT),
        var s => throw new BpfException($"program {p.Name}: section {s} is not a program type this loader knows (sk_skb/stream_verdict)"),
    };

    /// <summary>The map named <paramref name="name"/>; an error naming the ones there are if it is missing.</summary>
    public BpfMap Map(string name) => _maps.TryGetValue(name, out var m) ? m
        : throw new BpfException($"the BPF object has no map named {name} (it has: {string.Join(", ", _maps.Keys)})");

    /// <summary>The program named <paramref name="name"/>; an error naming the ones there are if it is missing.</summary>
    public BpfProgram Program(string name) => _programs.TryGetValue(name, out var p) ? p
        : throw new BpfException($"the BPF object has no program named {name} (it has: {string.Join(", ", _programs.Keys)})");

    public void Dispose()
    {
        foreach (var p in _programs.Values) p.Dispose();
        foreach (var m in _maps.Values) m.Dispose();
    }
}

/// <summary>A loaded program: its descriptor and where it attaches.</summary>
public sealed class BpfProgram(string name, uint attachType, int fd) : IDisposable
{
    public string Name { get; } = name;
    internal uint AttachType { get; } = attachType;
    internal int Fd { get; private set; } = fd;

    public void Dispose()
    {
        if (Fd >= 0) _ = close(Fd);
        Fd = -1;
    }
}

/// <summary>A map: typed element calls on its descriptor, and attaching programs to it (sockmap programs attach to their map).</summary>
public sealed unsafe class BpfMap(string name, int fd) : IDisposable
{
    public string Name { get; } = name;
    internal int Fd { get; private set; } = fd;

    /// <summary>Sets <paramref name="key"/>; 0 or −errno (for a socket map, −EOPNOTSUPP means the socket is not established).</summary>
    public int TryUpdate<TKey, TValue>(TKey key, TValue value, bool onlyNew = false) where TKey : unmanaged where TValue : unmanaged
        => BpfSyscall.MapUpdate(Fd, &key, &value, onlyNew ? BpfH.BPF_NOEXIST : BpfH.BPF_ANY);

    /// <summary>The value of <paramref name="key"/>, if there is one.</summary>
    public bool TryLookup<TKey, TValue>(TKey key, out TValue value) where TKey : unmanaged where TValue : unmanaged
    {
        TValue v = default;
        bool found = BpfSyscall.MapLookup(Fd, &key, &v);
        value = v;
        return found;
    }

    /// <summary>Removes <paramref name="key"/>; false when it was not there.</summary>
    public bool Delete<TKey>(TKey key) where TKey : unmanaged => BpfSyscall.MapDelete(Fd, &key);

    /// <summary>How many keys the map holds now (walked with BPF_MAP_GET_NEXT_KEY; for tests and diagnostics, not per packet).</summary>
    public int Count<TKey>() where TKey : unmanaged
    {
        int n = 0;
        TKey key = default;
        bool first = true;
        while (BpfSyscall.MapNextKey(Fd, first ? null : &key, &key))
        {
            first = false;
            n++;
        }
        return n;
    }

    /// <summary>Attaches <paramref name="program"/> to this map at the program's attach point.</summary>
    public void Attach(BpfProgram program) => BpfSyscall.ProgAttach(Fd, program.Fd, program.AttachType, $"{program.Name} to {Name}");

    public void Dispose()
    {
        if (Fd >= 0) _ = close(Fd);
        Fd = -1;
    }
}
