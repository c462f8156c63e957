namespace Appliance.Lab.Vm;

/// <summary>Where the built appliance image (<c>just image</c>) and QEMU's UEFI firmware are.</summary>
public static class ApplianceImage
{
    /// <summary>OVMF's code (read-only) and its template of UEFI variables (copied per VM), from Debian's ovmf.</summary>
    public const string FirmwareCode = "/usr/share/OVMF/OVMF_CODE_4M.fd";
    /// <summary>The template of UEFI variables; each VM writes its own copy.</summary>
    public const string FirmwareVars = "/usr/share/OVMF/OVMF_VARS_4M.fd";

    /// <summary>image/out/appliance.qcow2 of this checkout, or an exception that says how to build it.</summary>
    public static string Qcow2()
    {
        var path = Path.Combine(Repo.Root(), "image", "out", "appliance.qcow2");
        return File.Exists(path) ? path
            : throw new FileNotFoundException($"no appliance image at {path}: build it with `npx --yes rust-just image` (root; about 3 minutes)", path);
    }
}
