using Appliance.Bench.Proxy;
using Appliance.Lab.NetLab;
using static Appliance.Bench.Machine;

namespace Appliance.Bench.Lab;

/// <summary>
/// What the proxy hop costs in the lab: pgbench runs inside the client's namespace (no loopback
/// forward in the path), against the VIP's read-write listener (the VRRP master's proxy, then the
/// leader) and directly against the leader's PostgreSQL, in turn, the order alternating by round.
/// The ratio is taken per round against that round's direct run.
/// </summary>
public static class LabThroughput
{
    public const int Scale = 10;
    public const int Seconds = 10;

    static readonly Proxy.Workload[] Workloads = [new("pgbench `-S`, 8 clients", true, 8, false), new("pgbench TPC-B, 8 clients", false, 8, false)];

    /// <summary>One row of the table for a workload's measure.</summary>
    static readonly Dictionary<(Proxy.Workload, string), Measure> Rows = Workloads
        .SelectMany(w => new[]
        {
            ((w, "direct"), Measure.Tps($"{w.Name}: TPS direct to the leader")),
            ((w, "vip"), Measure.Tps($"{w.Name}: TPS through the VIP")),
            ((w, "ratio"), Measure.Ratio($"{w.Name}: TPS ratio, VIP / direct")),
        })
        .ToDictionary(r => r.Item1, r => r.Item2);

    /// <summary>Every row this benchmark fills, for a round that gives no value.</summary>
    public static IEnumerable<Measure> Measures => Rows.Values;

    /// <summary>The VIP's read-write listener, seen from the client's namespace.</summary>
    static PgbenchEndpoint Vip(NetLab lab) => new(LabLayout.Vip.ToString(), LabLayout.PrimaryPort, lab[LabLayout.Client.Name].Namespace, lab.SuperuserPassword);

    static PgbenchEndpoint Direct(NetLab lab, string node) => new(lab[node].Address, LabLayout.PostgresPort, lab[LabLayout.Client.Name].Namespace, lab.SuperuserPassword);

    /// <summary><c>pgbench -i</c> through the VIP, once per lab; a second try if the first met a moving VIP or leader (it starts by dropping its tables).</summary>
    public static async Task InitAsync(NetLab lab, CancellationToken ct)
    {
        try { await Pgbench.InitAsync(Vip(lab), Scale, ct); }
        catch (InvalidOperationException)
        {
            await lab.WaitHealthyAsync(TextWriter.Null, TimeSpan.FromMinutes(2), ct);
            await Pgbench.InitAsync(Vip(lab), Scale, ct);
        }
    }

    /// <summary>One round on a healthy lab led by <paramref name="leader"/>: each workload direct and through the VIP. Returns the values (null: that run failed, and why) and a progress line.</summary>
    public static async Task<(IReadOnlyList<(Measure Measure, double? Value)> Values, string Line)> RunAsync(
        NetLab lab, string leader, int round, CancellationToken ct)
    {
        var values = new List<(Measure, double?)>();
        var line = new List<string>();
        var logDir = Path.Combine(lab.Topology.WorkDir, "pgbench-log");
        (string Key, PgbenchEndpoint At)[] targets = [("direct", Direct(lab, leader)), ("vip", Vip(lab))];
        if (round % 2 == 0) Array.Reverse(targets);
        foreach (var w in Workloads)
        {
            var tps = new Dictionary<string, double?>();
            foreach (var (key, at) in targets)
            {
                var (result, failure) = await Pgbench.RunAsync(at, w, Seconds, logDir, ct);
                tps[key] = result?.Tps;
                values.Add((Rows[(w, key)], result?.Tps));
                line.Add(result is { } r ? Inv($"{w.Name} {key} {r.Tps:0} tps") : $"{w.Name} {key} FAILED: {failure.Split('\n')[0]}");
            }
            var ratio = tps["vip"] is { } v && tps["direct"] is { } d && d > 0 ? v / d : (double?)null;
            values.Add((Rows[(w, "ratio")], ratio));
            if (ratio is { } x) line.Add(Inv($"ratio {x:0.00}"));
        }
        return (values, string.Join(", ", line));
    }
}
