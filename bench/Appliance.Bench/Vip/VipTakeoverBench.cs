using System.Diagnostics;
using System.Globalization;
using System.Net;
using Appliance.Lab.Netns;

namespace Appliance.Bench.Vip;

/// <summary>
/// VIP takeover time seen by a client: in the seed's topology (lb1 priority 100, lb2 priority 90, a
/// client, on a bridge in namespaces), lb1's speaker is crashed (SIGKILL) or stopped (SIGTERM) and the
/// time runs from the signal to the first TCP connection to the VIP answered by lb2. Every run starts
/// from a fresh topology, so no run inherits a stale VIP or ARP entry from the one before.
/// </summary>
public static class VipTakeoverBench
{
    const int Port = 7000;

    public static readonly VrrpProfile[] Profiles =
    [
        new("VRRPv2, advert_int 1 s, PASS", 2, TimeSpan.FromSeconds(1), 51, "spk1234"),
        new("VRRPv3, advert_int 0.1 s", 3, TimeSpan.FromSeconds(0.1), 52, null),
    ];

    public enum Stop { Kill, Terminate }

    public static async Task<int> RunAsync(IReadOnlyList<IVipSpeaker> speakers, int runs, TextWriter o, CancellationToken ct)
    {
        await o.WriteLineAsync($"vip takeover benchmark: {runs} run(s) per row, {Environment.ProcessorCount} cores, probe every {TakeoverProbe.Interval.TotalMilliseconds:0} ms");
        var rows = new List<string>();
        foreach (var speaker in speakers)
        foreach (var profile in Profiles)
        foreach (var stop in new[] { Stop.Kill, Stop.Terminate })
        {
            var times = new List<double>();
            var failed = 0;
            for (var run = 1; run <= runs; run++)
            {
                var t = await OneRunAsync(speaker, profile, stop, o, ct);
                if (t is { } s) times.Add(s.TotalSeconds);
                else failed++;
                await o.WriteLineAsync($"  {speaker.Name}, {profile.Name}, {StopName(stop)}: run {run}: {(t is { } x ? $"{x.TotalSeconds:0.000} s" : "no takeover")}");
            }
            times.Sort();
            var row = times.Count == 0
                ? $"| {speaker.Name} | {profile.Name} | {StopName(stop)} | - | - | 0 of {runs} |"
                : string.Create(CultureInfo.InvariantCulture,
                    $"| {speaker.Name} | {profile.Name} | {StopName(stop)} | {Median(times):0.000} s | {times[0]:0.000}–{times[^1]:0.000} s | {times.Count}{(failed > 0 ? $" (+{failed} failed)" : "")} |");
            rows.Add(row);
            await o.WriteLineAsync(row);
        }
        await o.WriteLineAsync();
        await o.WriteLineAsync("| speaker | profile | stop | median takeover | range | runs |");
        await o.WriteLineAsync("|---|---|---|---|---|---|");
        foreach (var r in rows) await o.WriteLineAsync(r);
        return 0;
    }

    static string StopName(Stop s) => s == Stop.Kill ? "SIGKILL" : "SIGTERM";

    static double Median(List<double> sorted) => sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    /// <summary>One takeover; null when lb2 did not answer within the deadline (the log tails go to <paramref name="o"/>).</summary>
    static async Task<TimeSpan?> OneRunAsync(IVipSpeaker speaker, VrrpProfile profile, Stop stop, TextWriter o, CancellationToken ct)
    {
        await using var topology = await NetnsTopology.CreateAsync(SeedTopology.Nodes);
        await using var lb1Server = NodeNameServer.Start(topology.NamespaceOf("lb1"), "lb1", Port);
        await using var lb2Server = NodeNameServer.Start(topology.NamespaceOf("lb2"), "lb2", Port);
        await using var lb1 = await speaker.StartAsync(topology, SeedTopology.Lb1, profile, 100);
        await using var lb2 = await speaker.StartAsync(topology, SeedTopology.Lb2, profile, 90);
        var client = topology.NamespaceOf("client");
        var vip = new IPEndPoint(SeedTopology.Vip, Port);

        // Steady state first: lb1 master and answering on the VIP, lb2 a backup hearing its adverts.
        var settle = Stopwatch.StartNew();
        while (!(lb1.State == "MASTER" && lb2.State == "BACKUP" && await NodeNameProbe.AskAsync(client, vip, TimeSpan.FromSeconds(1), ct) == "lb1"))
        {
            if (settle.Elapsed > TimeSpan.FromSeconds(60))
            {
                await o.WriteLineAsync($"    no steady state (lb1 {lb1.State}, lb2 {lb2.State}):\n{lb1.LogTail()}\n{lb2.LogTail()}");
                return null;
            }
            await Task.Delay(50, ct);
        }
        // A few more adverts, so lb2's timers run from a master it has heard for a while; then a
        // random phase within the advert interval, since a crash's takeover is the master-down
        // interval minus the time since the last advert: every implementation gets the same spread.
        await Task.Delay(profile.AdvertInterval * (3 + Random.Shared.NextDouble()), ct);

        var since = Stopwatch.GetTimestamp();
        var stopping = stop == Stop.Kill ? lb1.KillAsync() : lb1.TerminateAsync();
        var took = await TakeoverProbe.UntilAnsweredByAsync(client, vip, "lb2", since, TimeSpan.FromSeconds(30), ct);
        await stopping;
        if (took is null) await o.WriteLineAsync($"    lb2 never answered on the VIP (lb2 {lb2.State}):\n{lb2.LogTail()}");
        return took;
    }
}
