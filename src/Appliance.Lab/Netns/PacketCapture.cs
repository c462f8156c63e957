using System.Diagnostics;

namespace Appliance.Lab.Netns;

/// <summary>
/// A tcpdump writing every frame crossing the topology's bridge to a pcap file. The bridge device
/// is put in promiscuous mode by tcpdump, and a promiscuous bridge passes up every frame it
/// forwards, so unicast between two ports is captured too.
/// </summary>
public sealed class PacketCapture : IAsyncDisposable
{
    readonly ChildProcess _tcpdump;

    /// <summary>The classic pcap file (LINKTYPE_ETHERNET) being written.</summary>
    public string PcapPath { get; }

    PacketCapture(ChildProcess tcpdump, string pcap)
    {
        _tcpdump = tcpdump;
        PcapPath = pcap;
    }

    /// <summary>
    /// Starts tcpdump in <paramref name="switchNetns"/> on <paramref name="bridge"/> and returns once it
    /// is listening (its "listening on" line), so nothing sent afterwards is missed.
    /// </summary>
    internal static async Task<PacketCapture> StartAsync(string switchNetns, string bridge, string pcap, string? filter, TimeSpan deadline)
    {
        // --immediate-mode: without it the kernel hands packets over in blocks retired every second, and
        // a SIGTERM before that loses them (seen: "6 received by filter, 0 captured"). -U: write each
        // packet at once, so the file can be read while capturing. -Z root: Debian's tcpdump would
        // otherwise drop to the tcpdump user, who cannot write into our root-owned folder.
        List<string> args = ["netns", "exec", switchNetns, "tcpdump", "-i", bridge, "-n", "-U", "--immediate-mode", "-Z", "root", "-w", pcap];
        if (filter is not null) args.AddRange(filter.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var p = ChildProcess.Start($"tcpdump {Path.GetFileName(pcap)}", "ip", args, pcap + ".log");
        var sw = Stopwatch.StartNew();
        while (!p.LogTail(5).Contains("listening on", StringComparison.Ordinal))
        {
            if (p.HasExited || sw.Elapsed > deadline)
            {
                await p.DisposeAsync();
                throw new InvalidOperationException($"tcpdump did not start listening on {bridge} within {deadline.TotalSeconds:0} s: {p.LogTail()}");
            }
            await Task.Delay(20);
        }
        return new PacketCapture(p, pcap);
    }

    /// <summary>Stops tcpdump (SIGTERM: it flushes and closes the file) and returns the pcap path.</summary>
    public async Task<string> StopAsync()
    {
        await _tcpdump.StopAsync(TimeSpan.FromSeconds(10));
        return PcapPath;
    }

    /// <summary>
    /// The captured frames as text, one per line (<c>tcpdump -r -nn -e -tt</c>, optionally filtered).
    /// Reading a file needs no network: it runs outside the namespaces.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ReadAsync(string pcap, string? filter = null)
    {
        List<string> args = ["-r", pcap, "-nn", "-e", "-tt"];
        if (filter is not null) args.AddRange(filter.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var r = (await Command.RunAsync("tcpdump", args)).Check();
        return r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The tcpdump process, for the topology to stop if the capture's owner does not.</summary>
    internal ChildProcess Process => _tcpdump;

    public ValueTask DisposeAsync() => _tcpdump.DisposeAsync();
}
