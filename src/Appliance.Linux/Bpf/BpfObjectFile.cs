using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using Appliance.Linux.Interop;

namespace Appliance.Linux.Bpf;

/// <summary>A map as the object declares it (a <c>struct { type, key_size, value_size, max_entries, flags }</c> in section <c>maps</c>).</summary>
public sealed record BpfMapDefinition(string Name, uint Type, uint KeySize, uint ValueSize, uint MaxEntries, uint Flags);

/// <summary>A program: its function name, its section (which says its type), its instructions, and which maps its 64-bit loads name.</summary>
public sealed record BpfProgramDefinition(string Name, string Section, ImmutableArray<byte> Instructions, ImmutableArray<(int Instruction, string Map)> MapReferences);

/// <summary>
/// What a compiled BPF object (ELF64, little-endian, EM_BPF) holds, read without libbpf: the license, the
/// maps of section <c>maps</c> and the programs of every executable section, with the relocations that
/// make their map loads point at maps. Debug and BTF sections are ignored: the maps are legacy
/// definitions, so loading needs no BTF. Only what native/sockmap needs is supported (no global data,
/// no calls between functions); anything else is refused with the reason.
/// </summary>
public sealed record BpfObjectFile(string License, ImmutableArray<BpfMapDefinition> Maps, ImmutableArray<BpfProgramDefinition> Programs)
{
    const ushort EM_BPF = 247;
    const uint SHT_SYMTAB = 2, SHT_REL = 9, SHF_EXECINSTR = 4;
    const int STT_FUNC = 2, STT_SECTION = 3;
    const uint R_BPF_64_64 = 1;
    const int MapDefSize = 20;

    /// <summary>Reads an object; throws <see cref="BpfException"/> saying what is wrong with it.</summary>
    public static BpfObjectFile Parse(ReadOnlySpan<byte> elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || !elf[1..4].SequenceEqual("ELF"u8))
            throw new BpfException("not an ELF object");
        if (elf[4] != 2 || elf[5] != 1 || U16(elf, 18) != EM_BPF)
            throw new BpfException("not a 64-bit little-endian BPF object (build it with clang -target bpf)");
        ulong shoff = U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C), shstrndx = U16(elf, 0x3E);
        var sections = new Section[shnum];
        for (int i = 0; i < shnum; i++)
        {
            var h = elf.Slice(checked((int)shoff + i * shentsize), 64);
            sections[i] = new Section(U32(h, 0), U32(h, 4), U64(h, 8), checked((int)U64(h, 24)), checked((int)U64(h, 32)), U32(h, 40), U32(h, 44));
        }
        var shstr = Bytes(elf, sections[shstrndx]);
        string SectionName(int i) => Str(shstr, (int)sections[i].NameOffset);
        int SectionNamed(string name) => Enumerable.Range(0, shnum).FirstOrDefault(i => SectionName(i) == name, -1);

        int symtabIndex = Array.FindIndex(sections, s => s.Type == SHT_SYMTAB);
        if (symtabIndex < 0) throw new BpfException("the object has no symbol table");
        var symtab = Bytes(elf, sections[symtabIndex]);
        var strtab = Bytes(elf, sections[sections[symtabIndex].Link]);
        var symbols = new Symbol[symtab.Length / 24];
        for (int i = 0; i < symbols.Length; i++)
        {
            var s = symtab.AsSpan(i * 24, 24);
            symbols[i] = new Symbol(Str(strtab, (int)U32(s, 0)), s[4] & 0xf, U16(s, 6), U64(s, 8));
        }

        int licenseIndex = SectionNamed("license");
        if (licenseIndex < 0) throw new BpfException("the object has no license section");
        string license = Str(Bytes(elf, sections[licenseIndex]), 0);

        var maps = ImmutableArray.CreateBuilder<BpfMapDefinition>();
        var mapAt = new Dictionary<ulong, string>();
        int mapsIndex = SectionNamed("maps");
        if (mapsIndex >= 0)
        {
            var data = Bytes(elf, sections[mapsIndex]);
            foreach (var sym in symbols.Where(s => s.Section == mapsIndex && s.Type != STT_SECTION && s.Name.Length > 0).OrderBy(s => s.Value))
            {
                if ((int)sym.Value + MapDefSize > data.Length) throw new BpfException($"map {sym.Name} lies outside section maps");
                var d = data.AsSpan((int)sym.Value, MapDefSize);
                maps.Add(new BpfMapDefinition(sym.Name, U32(d, 0), U32(d, 4), U32(d, 8), U32(d, 12), U32(d, 16)));
                mapAt[sym.Value] = sym.Name;
            }
        }

        var programs = ImmutableArray.CreateBuilder<BpfProgramDefinition>();
        for (int i = 0; i < shnum; i++)
        {
            if ((sections[i].Flags & SHF_EXECINSTR) == 0 || sections[i].Size == 0) continue;
            string section = SectionName(i);
            var functions = symbols.Where(s => s.Section == i && s.Type == STT_FUNC).ToArray();
            if (functions.Length != 1 || functions[0].Value != 0)
                throw new BpfException($"section {section} holds {functions.Length} functions; one program per section is supported");
            var references = ImmutableArray.CreateBuilder<(int, string)>();
            var insns = Bytes(elf, sections[i]);
            int relIndex = Array.FindIndex(sections, s => s.Type == SHT_REL && s.Info == i);
            if (relIndex >= 0)
            {
                var rel = Bytes(elf, sections[relIndex]);
                for (int r = 0; r + 16 <= rel.Length; r += 16)
                {
                    ulong offset = U64(rel, r), info = U64(rel, r + 8);
                    var sym = symbols[(int)(info >> 32)];
                    int insn = (int)(offset / 8);
                    if ((uint)info != R_BPF_64_64 || sym.Section != mapsIndex || insns[insn * 8] != BpfH.BPF_LD_IMM64)
                        throw new BpfException($"{section}: unsupported relocation against {(sym.Name.Length > 0 ? sym.Name : "a section")} (only map references are supported)");
                    // Against the map's own symbol, or (some compilers) against the section with the offset in imm.
                    ulong at = sym.Type == STT_SECTION ? sym.Value + U32(insns, insn * 8 + 4) : sym.Value;
                    if (!mapAt.TryGetValue(at, out var map)) throw new BpfException($"{section}: a map reference to offset {at} of section maps, where no map starts");
                    references.Add((insn, map));
                }
            }
            programs.Add(new BpfProgramDefinition(functions[0].Name, section, [.. insns], references.ToImmutable()));
        }
        return new BpfObjectFile(license, maps.ToImmutable(), programs.ToImmutable());
    }

    /// <summary>The map named <paramref name="name"/>, or an error that lists the names there are.</summary>
    public BpfMapDefinition Map(string name) => Maps.FirstOrDefault(m => m.Name == name)
        ?? throw new BpfException($"the BPF object has no map named {name} (it has: {string.Join(", ", Maps.Select(m => m.Name))})");

    /// <summary>The program named <paramref name="name"/>, or an error that lists the names there are.</summary>
    public BpfProgramDefinition Program(string name) => Programs.FirstOrDefault(p => p.Name == name)
        ?? throw new BpfException($"the BPF object has no program named {name} (it has: {string.Join(", ", Programs.Select(p => p.Name))})");

    readonly record struct Section(uint NameOffset, uint Type, ulong Flags, int Offset, int Size, uint Link, uint Info);
    readonly record struct Symbol(string Name, int Type, int Section, ulong Value);

    static byte[] Bytes(ReadOnlySpan<byte> elf, Section s)
    {
        if (s.Offset < 0 || s.Size < 0 || (long)s.Offset + s.Size > elf.Length) throw new BpfException("a section lies outside the file (truncated object?)");
        return elf.Slice(s.Offset, s.Size).ToArray();
    }

    static string Str(byte[] table, int offset)
    {
        int end = Array.IndexOf(table, (byte)0, offset);
        return Encoding.ASCII.GetString(table, offset, (end < 0 ? table.Length : end) - offset);
    }

    static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
    static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
    static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);
}
