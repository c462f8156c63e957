using System.Text;
using System.Text.RegularExpressions;
using Appliance.Agent.Ha;
using Appliance.Agent.Metrics;
using Appliance.Balancer.Http;
using Appliance.Fencing;

namespace Appliance.Monitoring.Tests;

/// <summary>
/// The metric names our binaries export, read from the real exporters: the agent's
/// <see cref="AgentMetrics"/> and the balancer's <see cref="BalancerMetrics"/> with
/// <see cref="ProxyMetrics"/>, built as the composition roots build them and exported to text.
/// prometheus-net writes every family's <c># TYPE</c> line even before a labelled series exists.
/// </summary>
static partial class ExportedMetrics
{
    public static async Task<string> AgentTextAsync()
    {
        var metrics = new AgentMetrics("monitoring-test", TimeSpan.FromSeconds(30), new AgentState(), new NoWatchdog(), TimeProvider.System);
        using var stream = new MemoryStream();
        await metrics.ExportAsync(stream, CancellationToken.None);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static async Task<string> BalancerTextAsync()
    {
        var metrics = new BalancerMetrics();
        ProxyMetrics.Register(metrics, () => null);
        using var stream = new MemoryStream();
        await metrics.ExportAsync(stream, CancellationToken.None);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// The series names a text exposition declares: each <c># TYPE</c> family, and for histograms and
    /// summaries the <c>_bucket</c>, <c>_sum</c> and <c>_count</c> series a query uses.
    /// </summary>
    public static HashSet<string> Names(string exposition)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in TypeLine().Matches(exposition))
        {
            var name = m.Groups["name"].Value;
            names.Add(name);
            if (m.Groups["type"].Value is "histogram" or "summary")
            {
                names.Add(name + "_bucket");
                names.Add(name + "_sum");
                names.Add(name + "_count");
            }
        }
        return names;
    }

    [GeneratedRegex(@"^# TYPE (?<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?<type>\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
