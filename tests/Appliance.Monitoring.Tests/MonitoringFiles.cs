namespace Appliance.Monitoring.Tests;

/// <summary>The files under <c>monitoring/</c>, found from the test's output folder up to the repository root.</summary>
static class MonitoringFiles
{
    public static string Root { get; } = FindRoot();
    public static string Folder => Path.Combine(Root, "monitoring");
    public static string PrometheusConfig => Path.Combine(Folder, "prometheus.yml");
    public static string Alerts => Path.Combine(Folder, "alerts.yml");
    public static string AlertTests => Path.Combine(Folder, "alerts.test.yml");
    public static string Dashboard => Path.Combine(Folder, "grafana-dashboard.json");
    public static string Readme => Path.Combine(Folder, "README.md");

    /// <summary>A path as the failure messages show it: relative to the repository.</summary>
    public static string Show(string path) => Path.GetRelativePath(Root, path);

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Appliance.sln")) && Directory.Exists(Path.Combine(dir.FullName, "monitoring")))
                return dir.FullName;
        throw new InvalidOperationException($"no Appliance.sln with a monitoring/ folder above {AppContext.BaseDirectory}");
    }
}
