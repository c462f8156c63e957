using Appliance.Lab.Netns;

namespace Appliance.Lab.Vm;

/// <summary>The disks a VM boots with besides the image: its own overlay of it, its configuration drop-in, its data disk. Built from files, no mount.</summary>
public static class VmDisks
{
    /// <summary>A copy-on-write overlay of <paramref name="image"/>: the VM writes there, the image stays as built.</summary>
    public static async Task OverlayAsync(string image, string path) =>
        (await Command.RunAsync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", image, "-F", "qcow2", path])).Check();

    /// <summary>
    /// The configuration drop-in as the appliance reads it: a small vfat disk labelled <c>APPLCFG</c> holding
    /// <paramref name="files"/> (name, TOML text), written with mtools.
    /// </summary>
    public static async Task ConfigDiskAsync(string path, IReadOnlyDictionary<string, string> files)
    {
        File.Delete(path);
        (await Command.RunAsync("mkfs.vfat", ["-C", "-n", "APPLCFG", path, "2048"])).Check();
        var staging = path + ".files";
        Directory.CreateDirectory(staging);
        try
        {
            foreach (var (name, text) in files)
            {
                var file = Path.Combine(staging, name);
                await File.WriteAllTextAsync(file, text);
                (await Command.RunAsync("env", ["MTOOLS_SKIP_CHECK=1", "mcopy", "-i", path, file, "::/" + name])).Check();
            }
        }
        finally
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>An empty ext4 data disk labelled <c>APPLIANCE-DATA</c> (sparse: only what the VM writes takes space).</summary>
    public static async Task DataDiskAsync(string path, int gib = 4)
    {
        File.Delete(path);
        (await Command.RunAsync("mkfs.ext4", ["-q", "-L", "APPLIANCE-DATA", path, $"{gib}G"])).Check();
    }
}
