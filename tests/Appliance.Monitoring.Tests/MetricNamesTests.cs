using System.Text.RegularExpressions;

namespace Appliance.Monitoring.Tests;

/// <summary>
/// Every metric name monitoring/ mentions — in a query, a unit test's series, an annotation or a
/// comment — is one that appliance-agent, appliance-balancer or etcd really exports, so a renamed
/// metric breaks this test instead of silently emptying a dashboard panel or muting an alert.
/// </summary>
public sealed partial class MetricNamesTests(EtcdMetricsFixture etcd) : IClassFixture<EtcdMetricsFixture>
{
    /// <summary>
    /// Names the rules use before any binary exports them, with who will serve them. Keep this short;
    /// once the exporter exists, its names come from the source like the rest.
    /// </summary>
    static readonly Dictionary<string, string> Expected = new(StringComparer.Ordinal)
    {
        // 1 while a node's drop-in configuration is invalid and it starts no role; served on port 8008
        // of such a node by the configuration-error component (being built alongside).
        ["appliance_node_config_error"] = "the configuration-error listener on port 8008",
    };

    public static TheoryData<string> Files() =>
    [
        "monitoring/prometheus.yml",
        "monitoring/alerts.yml",
        "monitoring/alerts.test.yml",
        "monitoring/grafana-dashboard.json",
        "monitoring/README.md",
    ];

    [Theory]
    [MemberData(nameof(Files))]
    public async Task Every_metric_named_in_the_file_is_exported(string file)
    {
        var known = await KnownAsync();
        var text = await File.ReadAllTextAsync(Path.Combine(MonitoringFiles.Root, file));
        var used = Mentioned(text);
        var unknown = used.Where(n => !known.ContainsKey(n)).Order(StringComparer.Ordinal).ToList();
        Assert.True(unknown.Count == 0,
            $"{file} names metrics that neither appliance-agent, appliance-balancer nor etcd exports: {string.Join(", ", unknown)}. " +
            "Fix the name, or add the metric to its exporter (src/Appliance.Agent/Metrics/AgentMetrics.cs, src/Appliance.Balancer/Http/*Metrics.cs).");
    }

    [Fact]
    public async Task The_rules_and_the_dashboard_cover_every_role()
    {
        var known = await KnownAsync();
        var alerts = Mentioned(await File.ReadAllTextAsync(MonitoringFiles.Alerts));
        var dashboard = Mentioned(string.Join('\n', PromtoolTests.DashboardQueries()));
        foreach (var (what, names) in new[] { ("monitoring/alerts.yml", alerts), ("the dashboard's queries", dashboard) })
            foreach (var source in new[] { "appliance-agent", "appliance-balancer", "etcd" })
                Assert.True(names.Any(n => known.GetValueOrDefault(n) == source), $"{what} use no metric of {source}");
        // The metrics the seed's alerts are about.
        foreach (var name in new[] { "appliance_vrrp_state", "patroni_primary", "patroni_xlog_replayed_location", "etcd_server_id",
                     "appliance_agent_watchdog_armed", "appliance_agent_node_boot_time_seconds", "process_start_time_seconds", "appliance_node_config_error" })
            Assert.True(alerts.Contains(name), $"monitoring/alerts.yml does not use {name}");
    }

    [Fact]
    public async Task The_exporters_are_read_for_real()
    {
        // Guards the guard: a broken reader would make every name unknown, an empty one every file pass.
        var known = await KnownAsync();
        Assert.Equal("appliance-agent", known.GetValueOrDefault("patroni_primary"));
        Assert.Equal("appliance-agent", known.GetValueOrDefault("appliance_agent_loop_duration_seconds_bucket"));
        Assert.Equal("appliance-balancer", known.GetValueOrDefault("appliance_vrrp_transitions_total"));
        Assert.Equal("appliance-balancer", known.GetValueOrDefault("appliance_proxy_backend_routed"));
        Assert.Equal("etcd", known.GetValueOrDefault("etcd_server_has_leader"));
        Assert.Equal("etcd", known.GetValueOrDefault("etcd_disk_wal_fsync_duration_seconds_bucket"));
        Assert.False(known.ContainsKey("appliance_vrrp_no_such_metric"));
        Assert.Equal(["appliance_vrrp_state", "etcd_server_id", "patroni_primary"],
            Mentioned("max(appliance_vrrp_state{state=\"master\"}) + etcd_server_id - patroni_primary: # appliance_vrrp_* ApplianceVipMoved job=\"appliance-agent\""));
        foreach (var name in Expected.Keys)
            Assert.False(known.GetValueOrDefault(name) is "appliance-agent" or "appliance-balancer",
                $"{name} is exported now: drop it from {nameof(Expected)}");
    }

    /// <summary>Every exported or expected name, with who exports it.</summary>
    async Task<Dictionary<string, string>> KnownAsync()
    {
        var known = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in etcd.Names) known[n] = "etcd";
        foreach (var n in ExportedMetrics.Names(await ExportedMetrics.BalancerTextAsync())) known[n] = "appliance-balancer";
        foreach (var n in ExportedMetrics.Names(await ExportedMetrics.AgentTextAsync())) known[n] = "appliance-agent";
        foreach (var (n, who) in Expected) known.TryAdd(n, who);
        return known;
    }

    /// <summary>
    /// The metric names a text mentions: words with one of the exporters' prefixes. A word ending in
    /// an underscore is a family written as <c>appliance_vrrp_*</c>, not a name. Colons belong to
    /// recording rules, never to an exported name, so one ends a name ("…_armed: 1 while…").
    /// Prometheus' own <c>up</c> and label names have no such prefix.
    /// </summary>
    internal static SortedSet<string> Mentioned(string text)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (Match m in Name().Matches(text))
            if (!m.Value.EndsWith('_')) names.Add(m.Value);
        return names;
    }

    [GeneratedRegex(@"(?<![A-Za-z0-9_:$])(?:patroni|appliance|etcd|process|dotnet)_[A-Za-z0-9_]*(?![A-Za-z0-9_])")]
    private static partial Regex Name();
}
