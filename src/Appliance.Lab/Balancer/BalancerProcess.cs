using System.Text.RegularExpressions;
using Appliance.Lab.Netns;
using Tmds.Linux;

namespace Appliance.Lab.Balancer;

/// <summary>
/// The published <c>appliance-balancer run</c> in a node's namespace, with its configuration and log
/// in a folder of its own in the topology's work folder, the counterpart of
/// <see cref="Keepalived.KeepalivedProcess"/>. It is one process: SIGKILL is a crash (the VIP stays
/// behind), SIGTERM a clean stop (priority-0 advert, VIP removed).
/// </summary>
public sealed partial class BalancerProcess : IAsyncDisposable
{
    readonly ChildProcess _process;
    readonly NetnsTopology _topology;

    public string Node { get; }
    public BalancerInstance Instance { get; }
    public string ConfigPath { get; }
    public int Pid => _process.Pid;
    public bool HasExited => _process.HasExited;

    BalancerProcess(NetnsTopology topology, string node, BalancerInstance instance, string config, ChildProcess process)
    {
        _topology = topology;
        Node = node;
        Instance = instance;
        ConfigPath = config;
        _process = process;
    }

    /// <summary>
    /// The binary: <c>APPLIANCE_BALANCER_BIN</c>, else the repository's <c>artifacts/bin/appliance-balancer</c>
    /// (the AOT publish). Missing is an error, never a silent skip.
    /// </summary>
    public static string Binary()
    {
        if (Environment.GetEnvironmentVariable("APPLIANCE_BALANCER_BIN") is { Length: > 0 } bin) return bin;
        var path = Path.Combine(Repo.Root(), "artifacts", "bin", "appliance-balancer");
        return File.Exists(path) ? path : throw new FileNotFoundException(
            $"{path} is missing: publish it first (dotnet publish src/Appliance.Balancer -c Release -o artifacts/bin) or set APPLIANCE_BALANCER_BIN");
    }

    /// <summary>Writes the configuration and starts the balancer on <paramref name="node"/>; <paramref name="name"/> tells restarts apart.</summary>
    public static BalancerProcess Start(NetnsTopology topology, string node, BalancerInstance instance, string? name = null)
    {
        name ??= $"balancer-{node}";
        var dir = topology.FilePath(name);
        Directory.CreateDirectory(dir);
        var config = Path.Combine(dir, "balancer.toml");
        File.WriteAllText(config, instance.Render());
        var p = topology.Start(node, name, Binary(), ["run", "--config", config]);
        return new BalancerProcess(topology, node, instance, config, p);
    }

    // "vrrp.VI_1[1] VI_1: BACKUP -> MASTER: master down timer fired" (BalancerLog.Transition).
    [GeneratedRegex(@": ([A-Z]+) -> ([A-Z]+): ")]
    private static partial Regex TransitionLine();

    /// <summary>The states it entered, in order, from its own log ("BACKUP", "MASTER", "FAULT", ...).</summary>
    public IReadOnlyList<string> Transitions()
    {
        try
        {
            return File.ReadLines(_process.LogPath).Select(l => TransitionLine().Match(l)).Where(m => m.Success).Select(m => m.Groups[2].Value).ToList();
        }
        catch (IOException) { return []; }
    }

    /// <summary>The state it last entered; null before the first transition.</summary>
    public string? State => Transitions() is [.., var last] ? last : null;

    /// <summary>GET <paramref name="path"/> on its listen address inside the namespace (curl there); null when it does not answer.</summary>
    public async Task<string?> GetAsync(string path)
    {
        var r = await _topology.ExecAsync(Node, "curl", "-sf", "--max-time", "5", $"http://{Instance.Listen}{path}");
        return r.Ok ? r.Output : null;
    }

    /// <summary><c>appliance_vrrp_drops_total{reason}</c> from /metrics (0 when absent).</summary>
    public async Task<double> DropsAsync(string reason)
    {
        var metrics = await GetAsync("/metrics") ?? throw new InvalidOperationException($"/metrics on {Node} did not answer:\n{LogTail()}");
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("appliance_vrrp_drops_total{", StringComparison.Ordinal)
            && l.Contains($"reason=\"{reason}\"", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A clean stop: SIGTERM; true when it exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        _process.Signal(LibC.SIGTERM);
        return await _process.WaitForExitAsync(timeout);
    }

    /// <summary>A crash: SIGKILL. The VIP stays on the node, as after a real crash.</summary>
    public async Task KillAsync()
    {
        _process.Signal(LibC.SIGKILL);
        await _process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Its exit code once it exited (the shell's exec keeps it the balancer's own).</summary>
    public int? ExitCode => _process.ExitCode;

    public string LogTail(int lines = 30) => _process.LogTail(lines);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
