using System.Diagnostics;
using System.Text;

namespace Appliance.Image.Tests.Container;

/// <summary>
/// buildah with its own throw-away storage (<c>--root</c>, <c>--runroot</c>, TMPDIR, all in one unique temp
/// folder), so parallel or crashed runs never share images or containers with each other or with the
/// machine's own. Dispose removes every container and image, unmounts what the storage driver left
/// mounted and deletes the folder; any buildah still running is killed by its PID.
/// </summary>
sealed class Buildah : IDisposable
{
    public const string Executable = "/usr/bin/buildah";

    /// <summary>How long one build may take (the first one copies the 300 MB root filesystem in).</summary>
    public static readonly TimeSpan BuildDeadline = TimeSpan.FromMinutes(15);
    /// <summary>How long anything else (from, run, rm) may take.</summary>
    public static readonly TimeSpan CommandDeadline = TimeSpan.FromMinutes(3);

    readonly string _dir;
    readonly List<Process> _running = [];
    readonly StringBuilder _log = new();

    public sealed record Result(int ExitCode, string Output, string Errors)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Errors}";
    }

    /// <summary>overlay when this machine's kernel and filesystem support it, else vfs (copies every layer: slower, always works).</summary>
    public string StorageDriver { get; private set; } = "overlay";

    /// <summary>Everything buildah was asked and how it answered, for failure messages.</summary>
    public string Log { get { lock (_log) return _log.ToString(); } }

    Buildah(string dir) => _dir = dir;

    public static async Task<Buildah> CreateAsync()
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: install buildah (scripts/setup.sh, or apt-get install -y --no-install-recommends buildah)");
        var dir = Path.Combine(Path.GetTempPath(), $"appl-buildah-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(dir);
        var b = new Buildah(dir);
        try
        {
            Directory.CreateDirectory(b.TmpDir);
            // `info` initialises the storage driver, which checks that overlay mounts work here.
            if ((await b.RunAsync(["info"], CommandDeadline)).ExitCode != 0)
            {
                b.Reset();
                b.StorageDriver = "vfs";
                var info = await b.RunAsync(["info"], CommandDeadline);
                Assert.True(info.ExitCode == 0, $"buildah works with neither overlay nor vfs storage:\n{b.Log}");
            }
            return b;
        }
        catch
        {
            b.Dispose();
            throw;
        }
    }

    string TmpDir => Path.Combine(_dir, "tmp");

    /// <summary><c>buildah bud</c> of one target of <paramref name="dockerfile"/> with <paramref name="context"/>; fails the test with buildah's output unless it succeeds.</summary>
    public async Task BuildAsync(string context, string dockerfile, string target, string tag)
    {
        // --layers: a second target reuses the cached base stage (the ADD of the root filesystem);
        // --pull=never: the Dockerfile must need nothing from a registry.
        var r = await RunAsync(["bud", "--isolation=chroot", "--layers", "--pull=never", "-f", dockerfile,
            "--target", target, "-t", tag, context], BuildDeadline);
        Assert.True(r.ExitCode == 0, $"buildah bud --target {target} failed:\n{r}");
    }

    /// <summary>A working container of <paramref name="image"/> (<c>buildah from</c>); its name.</summary>
    public async Task<string> FromAsync(string image, string name)
    {
        var r = await RunAsync(["from", "--pull=never", "--name", name, image], CommandDeadline);
        Assert.True(r.ExitCode == 0, $"buildah from {image} failed:\n{r}");
        return r.Output.Trim();
    }

    /// <summary>
    /// Runs <paramref name="command"/> in <paramref name="container"/> as the image's user, with chroot isolation
    /// (no network namespace is set up; nothing listens), the host folders of <paramref name="volumes"/> mounted read-only.
    /// </summary>
    public Task<Result> RunInAsync(string container, IReadOnlyDictionary<string, string> volumes, params string[] command)
    {
        var args = new List<string> { "run", "--isolation=chroot" };
        foreach (var (host, inside) in volumes) args.AddRange(["--volume", $"{host}:{inside}:ro"]);
        args.Add(container);
        args.Add("--");
        args.AddRange(command);
        return RunAsync(args, CommandDeadline);
    }

    /// <summary>The image's config as <c>buildah inspect</c> prints it (JSON).</summary>
    public async Task<string> InspectImageAsync(string image)
    {
        var r = await RunAsync(["inspect", "--type", "image", image], CommandDeadline);
        Assert.True(r.ExitCode == 0, $"buildah inspect {image} failed:\n{r}");
        return r.Output;
    }

    /// <summary>Runs buildah with this storage; a run that outlives <paramref name="deadline"/> is killed (its process tree, by PID) and fails the test.</summary>
    public async Task<Result> RunAsync(IEnumerable<string> args, TimeSpan deadline)
    {
        var psi = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[.. StorageArgs, .. args]) psi.ArgumentList.Add(a);
        SetEnvironment(psi);
        var line = "buildah " + string.Join(' ', psi.ArgumentList);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {line}");
        lock (_running) _running.Add(p);
        try
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(deadline);
            try
            {
                await p.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                Kill(p);
                Assert.Fail($"not within {deadline.TotalSeconds:0}s: {line} (killed, pid {p.Id})\n{Log}");
            }
            var result = new Result(p.ExitCode, await stdout, await stderr);
            lock (_log) _log.Append(System.Globalization.CultureInfo.InvariantCulture, $"$ {line}  [{sw.Elapsed.TotalSeconds:0.0}s]\n{result}\n");
            return result;
        }
        finally
        {
            lock (_running) _running.Remove(p);
        }
    }

    string[] StorageArgs => ["--root", Path.Combine(_dir, "root"), "--runroot", Path.Combine(_dir, "run"), "--storage-driver", StorageDriver];

    void SetEnvironment(ProcessStartInfo psi)
    {
        // buildah's own temporary files (build contexts, blobs) go into our folder too.
        psi.Environment["TMPDIR"] = TmpDir;
        psi.Environment["BUILDAH_ISOLATION"] = "chroot";
    }

    /// <summary>The clean-up's runner: synchronous (Dispose), output kept in the log, killed by PID after <see cref="CommandDeadline"/>.</summary>
    void RunToEnd(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        SetEnvironment(psi);
        try
        {
            using var p = Process.Start(psi);
            if (p is null) return;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(CommandDeadline)) Kill(p);
            lock (_log) _log.Append(System.Globalization.CultureInfo.InvariantCulture, $"$ {file} {string.Join(' ', args)}\n{stdout.Result}{stderr.Result}\n");
        }
        catch (System.ComponentModel.Win32Exception) { }
    }

    static void Kill(Process p)
    {
        try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } catch (System.ComponentModel.Win32Exception) { }
        p.WaitForExit(10_000);
    }

    /// <summary>Removes all containers and images of this storage and whatever is still mounted under it.</summary>
    void Reset()
    {
        Process[] survivors;
        lock (_running) survivors = [.. _running];
        foreach (var p in survivors) Kill(p);
        foreach (var args in (string[][])[["rm", "--all"], ["rmi", "--all", "--force"]])
            RunToEnd(Executable, [.. StorageArgs, .. args]);
        // The overlay driver mounts layers (and may bind-mount its home onto itself); what is left goes now,
        // deepest first, so the folder can be deleted.
        foreach (var mount in MountsUnder(_dir).OrderByDescending(m => m.Length))
        {
            RunToEnd("umount", ["-l", mount]);
        }
        try { Directory.Delete(Path.Combine(_dir, "root"), recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        try { Directory.Delete(Path.Combine(_dir, "run"), recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    static IEnumerable<string> MountsUnder(string dir)
    {
        var prefix = dir.TrimEnd('/') + "/";
        foreach (var line in File.ReadLines("/proc/self/mountinfo"))
        {
            // mountinfo's fifth field is the mount point, with spaces and the like escaped as \040.
            var fields = line.Split(' ');
            if (fields.Length < 5) continue;
            var point = fields[4].Replace("\\040", " ", StringComparison.Ordinal);
            if (point == dir || point.StartsWith(prefix, StringComparison.Ordinal)) yield return point;
        }
    }

    public void Dispose()
    {
        Reset();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
