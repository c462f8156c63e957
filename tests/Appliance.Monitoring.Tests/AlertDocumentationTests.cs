using System.Text.RegularExpressions;

namespace Appliance.Monitoring.Tests;

/// <summary>Every alert tells an operator what it means, how bad it is, and is in monitoring/README.md; the seed's alerts have unit tests.</summary>
public sealed partial class AlertDocumentationTests
{
    static readonly string[] SeedAlerts =
    [
        "ApplianceVipMoved", "AppliancePrimaryChanged", "ApplianceReplicationLagHigh", "ApplianceEtcdMembershipChanged",
        "ApplianceWatchdogArmed", "ApplianceWatchdogFired", "ApplianceAgentRestarted", "ApplianceNodeConfigError",
    ];

    [Fact]
    public void Every_alert_has_a_severity_a_summary_and_a_description()
    {
        var rules = Rules();
        Assert.True(rules.Count >= SeedAlerts.Length, $"only {rules.Count} alerts found in monitoring/alerts.yml");
        var problems = new List<string>();
        foreach (var (name, body) in rules)
        {
            if (!Severity().IsMatch(body)) problems.Add($"{name}: no severity label of critical, warning or info");
            if (!body.Contains("summary:", StringComparison.Ordinal)) problems.Add($"{name}: no summary annotation");
            if (!body.Contains("description:", StringComparison.Ordinal)) problems.Add($"{name}: no description annotation");
        }
        Assert.True(problems.Count == 0, "monitoring/alerts.yml: " + string.Join("; ", problems));
    }

    [Fact]
    public void Every_alert_is_listed_in_the_readme()
    {
        var readme = File.ReadAllText(MonitoringFiles.Readme);
        var missing = Rules().Keys.Where(n => !readme.Contains($"`{n}`", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"monitoring/README.md does not list: {string.Join(", ", missing)}");
    }

    [Fact]
    public void The_seed_alerts_exist_and_have_unit_tests()
    {
        var rules = Rules();
        var tests = File.ReadAllText(MonitoringFiles.AlertTests);
        foreach (var name in SeedAlerts)
        {
            Assert.True(rules.ContainsKey(name), $"monitoring/alerts.yml has no alert {name}");
            Assert.True(Regex.IsMatch(tests, $@"alertname: {name}\s+exp_alerts:\s+- exp_labels:"),
                $"monitoring/alerts.test.yml never expects {name} to fire");
        }
    }

    /// <summary>Each <c>- alert:</c> of alerts.yml with the text up to the next rule or group.</summary>
    static Dictionary<string, string> Rules()
    {
        var text = File.ReadAllText(MonitoringFiles.Alerts);
        var starts = AlertLine().Matches(text);
        var rules = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < starts.Count; i++)
        {
            var end = i + 1 < starts.Count ? starts[i + 1].Index : text.Length;
            Assert.True(rules.TryAdd(starts[i].Groups["name"].Value, text[starts[i].Index..end]), $"monitoring/alerts.yml defines {starts[i].Groups["name"].Value} twice");
        }
        return rules;
    }

    [GeneratedRegex(@"^\s*- alert: (?<name>\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex AlertLine();

    [GeneratedRegex(@"labels: \{severity: (critical|warning|info)\}")]
    private static partial Regex Severity();
}
