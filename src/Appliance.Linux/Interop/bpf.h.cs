namespace Appliance.Linux.Interop;

/// <summary>
/// The parts of &lt;linux/bpf.h&gt; the sockmap loader uses: commands, types and the byte offsets of the
/// <c>union bpf_attr</c> members each command reads (the union is filled field by field into a zeroed
/// buffer; the kernel zero-extends a shorter attr and rejects non-zero bytes it does not know).
/// Tmds.LibC 0.5.0 has <c>syscall</c> but nothing of bpf(2).
/// </summary>
internal static class BpfH
{
    // enum bpf_cmd
    public const int BPF_MAP_CREATE = 0;
    public const int BPF_MAP_LOOKUP_ELEM = 1;
    public const int BPF_MAP_UPDATE_ELEM = 2;
    public const int BPF_MAP_DELETE_ELEM = 3;
    public const int BPF_MAP_GET_NEXT_KEY = 4;
    public const int BPF_PROG_LOAD = 5;
    public const int BPF_PROG_ATTACH = 8;

    // enum bpf_map_type
    public const uint BPF_MAP_TYPE_HASH = 1;
    public const uint BPF_MAP_TYPE_SOCKHASH = 18;

    // enum bpf_prog_type
    public const uint BPF_PROG_TYPE_SK_SKB = 14;

    // enum bpf_attach_type
    public const uint BPF_SK_SKB_STREAM_VERDICT = 5;

    // map update flags
    public const ulong BPF_ANY = 0;
    public const ulong BPF_NOEXIST = 1;

    /// <summary>src_reg of a 64-bit immediate load whose imm is a map's descriptor.</summary>
    public const byte BPF_PSEUDO_MAP_FD = 1;
    /// <summary>The opcode of that load (BPF_LD | BPF_IMM | BPF_DW); it spans two instructions.</summary>
    public const byte BPF_LD_IMM64 = 0x18;

    /// <summary>Bytes in an object name (map_name, prog_name), the terminating NUL included.</summary>
    public const int BPF_OBJ_NAME_LEN = 16;

    /// <summary>Large enough for every command used here (the kernel's union is bigger; the tail is zero-extended).</summary>
    public const int AttrSize = 128;

    /// <summary>Offsets in bpf_attr for BPF_MAP_CREATE.</summary>
    public static class MapCreate
    {
        public const int map_type = 0, key_size = 4, value_size = 8, max_entries = 12, map_flags = 16, map_name = 28;
    }

    /// <summary>Offsets in bpf_attr for BPF_MAP_*_ELEM and BPF_MAP_GET_NEXT_KEY (whose next_key sits where value does).</summary>
    public static class MapElem
    {
        public const int map_fd = 0, key = 8, value = 16, flags = 24;
    }

    /// <summary>Offsets in bpf_attr for BPF_PROG_LOAD.</summary>
    public static class ProgLoad
    {
        public const int prog_type = 0, insn_cnt = 4, insns = 8, license = 16, log_level = 24, log_size = 28, log_buf = 32,
            prog_name = 48, expected_attach_type = 68;
    }

    /// <summary>Offsets in bpf_attr for BPF_PROG_ATTACH.</summary>
    public static class ProgAttach
    {
        public const int target_fd = 0, attach_bpf_fd = 4, attach_type = 8;
    }
}
