using System.Diagnostics;

namespace Appliance.TestKit;

/// <summary>
/// The FUSE watchdog emulator (native/watchdog-emu), compiled once per test class with gcc.
/// Capability gate: FUSE and the C toolchain are expected on every machine set up by
/// scripts/setup.sh, so their absence fails the tests with the reason instead of skipping them.
/// </summary>
public sealed class EmulatorBinary : IDisposable
{
    private readonly TempDir _dir = new("appl-wdemu-bin");

    public string Path => _dir.Sub("watchdog-emu");

    public EmulatorBinary()
    {
        try
        {
            Build();
        }
        catch
        {
            _dir.Dispose(); // xunit does not dispose a fixture whose constructor threw
            throw;
        }
    }

    private void Build()
    {
        if (!File.Exists("/dev/fuse"))
            throw new InvalidOperationException("capability 'fuse' missing: /dev/fuse does not exist (load the fuse module, or give the container --device /dev/fuse); the watchdog device tests need it");
        if (Which("fusermount3") is null)
            throw new InvalidOperationException("capability 'fuse' missing: fusermount3 not found (run scripts/setup.sh: fuse3)");
        string source = System.IO.Path.Combine(AppContext.BaseDirectory, "native", "watchdog-emu.c");
        var flags = Run("pkg-config", "--cflags", "--libs", "fuse3");
        if (flags.ExitCode != 0)
            throw new InvalidOperationException($"capability 'libfuse3-dev' missing: pkg-config fuse3 failed (run scripts/setup.sh): {flags.Errors}");
        var gcc = Run("gcc", [.. new[] { "-O2", "-Wall", "-Wextra", "-Werror", "-o", Path, source }, .. flags.Output.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)]);
        if (gcc.ExitCode != 0) throw new InvalidOperationException($"gcc watchdog-emu.c failed: {gcc.Errors}");
    }

    public void Dispose() => _dir.Dispose();

    public static Cli.Result Run(string file, params string[] args)
    {
        try
        {
            return Cli.RunAsync(file, args).GetAwaiter().GetResult();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new Cli.Result(127, "", $"{file}: {e.Message}");
        }
    }

    private static string? Which(string name)
        => (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':')
            .Select(d => System.IO.Path.Combine(d, name)).FirstOrDefault(File.Exists);
}

/// <summary>
/// One mounted emulator: <see cref="DevicePath"/> answers the watchdog ioctls and every call is a
/// line of <see cref="Log"/>. Dispose unmounts and kills the process it started, by its PID.
/// </summary>
public sealed class WatchdogEmulator : IDisposable
{
    private readonly TempDir _dir = new("appl-wdemu");
    private readonly Process _process;
    private readonly string _mountpoint;
    private readonly string _logPath;

    public string DevicePath { get; }

    private WatchdogEmulator(EmulatorBinary binary, string identity, int timeoutFloor)
    {
        _mountpoint = _dir.Sub("mnt");
        Directory.CreateDirectory(_mountpoint);
        _logPath = _dir.Sub("calls.log");
        DevicePath = System.IO.Path.Combine(_mountpoint, "watchdog");
        var psi = new ProcessStartInfo(binary.Path) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "--log", _logPath, "--identity", identity, "--timeout-floor", timeoutFloor.ToString(), _mountpoint })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start watchdog-emu");
    }

    /// <summary>Starts and mounts an emulator; returns once the device file is there.</summary>
    /// <param name="identity">What WDIOC_GETSUPPORT reports.</param>
    /// <param name="timeoutFloor">The device takes max(asked, floor) on SETTIMEOUT, like a coarse hardware prescaler.</param>
    public static async Task<WatchdogEmulator> StartAsync(EmulatorBinary binary, string identity = "appliance-emu", int timeoutFloor = 0)
    {
        var emu = new WatchdogEmulator(binary, identity, timeoutFloor);
        try
        {
            await Wait.UntilAsync("the FUSE watchdog emulator is mounted", () =>
            {
                if (emu._process.HasExited)
                    throw new InvalidOperationException($"watchdog-emu exited with {emu._process.ExitCode}: {emu._process.StandardError.ReadToEnd()}");
                return File.Exists(emu.DevicePath);
            }, TimeSpan.FromSeconds(10));
            return emu;
        }
        catch
        {
            emu.Dispose();
            throw;
        }
    }

    /// <summary>The calls so far, one per line (see watchdog-emu.c).</summary>
    public IReadOnlyList<string> Log => File.Exists(_logPath) ? File.ReadAllLines(_logPath) : [];

    /// <summary>FUSE sends release after close(2) returns: wait for it rather than read at once.</summary>
    public Task WaitForLogAsync(string line)
        => Wait.UntilAsync($"the emulator logged '{line}' (log: {string.Join(" | ", Log)})", () => Log.Contains(line), TimeSpan.FromSeconds(10));

    public void Dispose()
    {
        try
        {
            if (EmulatorBinary.Run("fusermount3", "-u", _mountpoint).ExitCode != 0)
                EmulatorBinary.Run("fusermount3", "-uz", _mountpoint);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                _process.Kill();
                _process.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        finally
        {
            _process.Dispose();
            _dir.Dispose();
        }
    }
}
