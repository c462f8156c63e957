using System.Text.RegularExpressions;
using Appliance.Lab.Netns;
using Tmds.Linux;

namespace Appliance.Lab.Vm;

/// <summary>
/// One appliance VM: QEMU booting the image by UEFI from its own overlay, with its configuration disk, a data
/// disk, the i6300esb watchdog (reset action) and one network card. Its serial console goes to a file that
/// tests read. Disposing kills QEMU by PID and deletes every file it had.
/// </summary>
public sealed partial class QemuVm : IAsyncDisposable
{
    readonly ChildProcess _qemu;

    /// <summary>The VM's name (its folder's, and its console log's).</summary>
    public string Name { get; }
    /// <summary>Its folder: overlay, firmware variables, disks, console log.</summary>
    public string Dir { get; }
    /// <summary>The serial console's log.</summary>
    public string ConsolePath => Path.Combine(Dir, "console.log");
    /// <summary>QEMU's own PID.</summary>
    public int Pid => _qemu.Pid;
    /// <summary>Whether QEMU has exited.</summary>
    public bool HasExited => _qemu.HasExited;

    QemuVm(string name, string dir, ChildProcess qemu)
    {
        Name = name;
        Dir = dir;
        _qemu = qemu;
    }

    /// <summary>
    /// Boots a VM in <paramref name="dir"/> (created; deleted on dispose). <paramref name="network"/> is QEMU's
    /// <c>-netdev</c> value (user mode with <c>restrict=on</c>, or a tap in a namespace); <paramref name="netns"/>
    /// runs QEMU in that network namespace (where its tap is). <paramref name="cpus"/> virtual CPUs (one each
    /// lets five VMs share two cores). With <paramref name="keepDisks"/> and the disks of an earlier boot in
    /// <paramref name="dir"/> (after <see cref="PowerOffAsync"/>), the VM boots from them as they were: a power cycle.
    /// </summary>
    public static async Task<QemuVm> StartAsync(string name, string dir, IReadOnlyDictionary<string, string> configFiles, string mac, string network,
        int memoryMiB = 1024, string? netns = null, int cpus = 2, bool keepDisks = false)
    {
        Directory.CreateDirectory(dir);
        if (!keepDisks || !File.Exists(Path.Combine(dir, "root.qcow2")))
        {
            try
            {
                await VmDisks.OverlayAsync(ApplianceImage.Qcow2(), Path.Combine(dir, "root.qcow2"));
                await VmDisks.ConfigDiskAsync(Path.Combine(dir, "config.img"), configFiles);
                await VmDisks.DataDiskAsync(Path.Combine(dir, "data.img"));
                File.Copy(ApplianceImage.FirmwareVars, Path.Combine(dir, "vars.fd"), overwrite: true);
            }
            catch
            {
                Directory.Delete(dir, recursive: true);
                throw;
            }
        }
        string[] qemu =
        [
            "qemu-system-x86_64", "-name", name, "-machine", "q35",
            // KVM is not usable on these machines (FACTS.md): multi-threaded TCG, the fastest software emulation.
            "-accel", "tcg,thread=multi", "-cpu", "max", "-smp", cpus.ToString(System.Globalization.CultureInfo.InvariantCulture), "-m", memoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-display", "none", "-monitor", "none", "-nodefaults", "-serial", $"file:{Path.Combine(dir, "console.log")}",
            "-drive", $"if=pflash,format=raw,readonly=on,file={ApplianceImage.FirmwareCode}",
            "-drive", $"if=pflash,format=raw,file={Path.Combine(dir, "vars.fd")}",
            "-drive", $"file={Path.Combine(dir, "root.qcow2")},if=virtio,format=qcow2",
            "-drive", $"file={Path.Combine(dir, "config.img")},if=virtio,format=raw",
            "-drive", $"file={Path.Combine(dir, "data.img")},if=virtio,format=raw",
            "-netdev", $"{network},id=n0", "-device", $"virtio-net-pci,netdev=n0,mac={mac}",
            "-device", "i6300esb", "-action", "watchdog=reset",
        ];
        var process = netns is null
            ? ChildProcess.Start(name, qemu[0], qemu[1..], Path.Combine(dir, "qemu.log"))
            : ChildProcess.Start(name, "ip", ["netns", "exec", netns, .. qemu], Path.Combine(dir, "qemu.log"));
        return new QemuVm(name, dir, process);
    }

    /// <summary>What the console printed so far.</summary>
    public string Console()
    {
        try
        {
            using var stream = new FileStream(ConsolePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (FileNotFoundException)
        {
            return "";
        }
    }

    /// <summary>How many times the kernel started: 1 after the first boot, 2 after a reset.</summary>
    public int Boots => KernelBanner().Count(Console());

    /// <summary>Waits until the console shows <paramref name="text"/> (after <paramref name="boot"/> kernel starts, when given); throws with the console's tail on timeout or QEMU's exit.</summary>
    public async Task WaitForConsoleAsync(string text, TimeSpan timeout, int boot = 1, CancellationToken ct = default)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var console = Console();
            var starts = KernelBanner().Matches(console);
            if (starts.Count >= boot && console.IndexOf(text, starts[boot - 1].Index, StringComparison.Ordinal) >= 0) return;
            if (HasExited) throw new InvalidOperationException($"{Name}: QEMU exited ({_qemu.LogTail(5)}) before the console showed \"{text}\"; console:\n{Tail(console)}");
            if (DateTime.UtcNow > until) throw new TimeoutException($"{Name}: the console did not show \"{text}\" (boot {boot}) within {timeout.TotalSeconds:0} s; console:\n{Tail(console)}");
            await Task.Delay(500, ct);
        }
    }

    /// <summary>The last lines of the console (for failure messages).</summary>
    public string ConsoleTail(int lines = 40) => Tail(Console(), lines);

    static string Tail(string text, int lines = 40) => string.Join('\n', text.Split('\n').TakeLast(lines));

    [GeneratedRegex(@"Linux version \d")]
    private static partial Regex KernelBanner();

    /// <summary>Pulls the power cord (SIGKILL to QEMU) and keeps the folder, so <see cref="StartAsync"/> with keepDisks boots it again.</summary>
    public async Task PowerOffAsync()
    {
        _qemu.Signal(LibC.SIGKILL);
        await _qemu.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Kills QEMU (the VM's power cord) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        _qemu.Signal(LibC.SIGKILL);
        await _qemu.WaitForExitAsync(TimeSpan.FromSeconds(10));
        await _qemu.DisposeAsync();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
