using System.Text.Json;
using Appliance.TestKit;

namespace Appliance.Monitoring.Tests;

/// <summary>monitoring/ as Prometheus itself reads it: the scrape configuration, the rules, their unit tests and the dashboard's queries.</summary>
public sealed class PromtoolTests
{
    [Fact]
    public async Task Scrape_configuration_loads_with_its_rule_file()
    {
        var output = await Promtool.MustPassAsync("check", "config", MonitoringFiles.PrometheusConfig);
        Assert.Contains("1 rule files found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alerting_rules_load()
    {
        var output = await Promtool.MustPassAsync("check", "rules", MonitoringFiles.Alerts);
        Assert.Matches(@"SUCCESS: [1-9][0-9]* rules found", output);
    }

    [Fact]
    public async Task Alerts_fire_on_synthetic_series_as_their_unit_tests_say()
    {
        var output = await Promtool.MustPassAsync("test", "rules", MonitoringFiles.AlertTests);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_dashboard_query_parses()
    {
        // Each panel query becomes a recording rule, with Grafana's variables given plain values,
        // so promtool parses it as Prometheus would.
        var queries = DashboardQueries();
        Assert.True(queries.Count >= 20, $"only {queries.Count} queries found in {MonitoringFiles.Show(MonitoringFiles.Dashboard)}");
        using var dir = new TempDir("appl-monitoring");
        var rules = dir.Sub("dashboard-queries.yml");
        var lines = new List<string> { "groups:", "  - name: dashboard", "    rules:" };
        for (var i = 0; i < queries.Count; i++)
        {
            var expr = queries[i].Replace("$__rate_interval", "5m", StringComparison.Ordinal).Replace("$scope", ".*", StringComparison.Ordinal);
            lines.Add($"      - record: dashboard_query_{i}");
            lines.Add($"        expr: {JsonSerializer.Serialize(expr)}");
        }
        await File.WriteAllLinesAsync(rules, lines);
        var output = await Promtool.MustPassAsync("check", "rules", rules);
        Assert.Contains($"SUCCESS: {queries.Count} rules found", output, StringComparison.Ordinal);
    }

    /// <summary>Every <c>expr</c> of every panel target (rows included).</summary>
    internal static List<string> DashboardQueries()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(MonitoringFiles.Dashboard));
        var found = new List<string>();
        Walk(doc.RootElement, found);
        return found;

        static void Walk(JsonElement e, List<string> found)
        {
            if (e.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in e.EnumerateObject())
                {
                    if (p.Name == "expr" && p.Value.ValueKind == JsonValueKind.String) found.Add(p.Value.GetString()!);
                    else Walk(p.Value, found);
                }
            }
            else if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in e.EnumerateArray()) Walk(item, found);
            }
        }
    }
}
