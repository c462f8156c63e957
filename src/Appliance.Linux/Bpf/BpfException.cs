using System.Runtime.InteropServices;

namespace Appliance.Linux.Bpf;

/// <summary>A bpf(2) call failed, or an object cannot be loaded: says what was being done, the errno, and the verifier's log when it rejected a program.</summary>
public sealed class BpfException : IOException
{
    /// <summary>The errno of the failed call; 0 when the object itself is wrong (a missing name, a malformed file).</summary>
    public int Errno { get; }

    /// <summary>The verifier's log when it rejected a program, else empty.</summary>
    public string VerifierLog { get; }

    public BpfException(string message) : base(message) => VerifierLog = "";

    public BpfException(string operation, int errno, string verifierLog = "")
        : base($"{operation} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}){Hint(errno)}{(verifierLog.Length > 0 ? $"; the verifier said:\n{verifierLog.TrimEnd()}" : "")}")
        => (Errno, VerifierLog) = (errno, verifierLog);

    static string Hint(int errno) => errno switch
    {
        1 => " — needs CAP_BPF and CAP_NET_ADMIN (kernel.unprivileged_bpf_disabled forbids it otherwise)",
        38 => " — this kernel has no bpf(2)",
        _ => "",
    };
}
