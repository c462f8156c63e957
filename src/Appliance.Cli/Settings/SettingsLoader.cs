using Appliance.Cli.CommandLine;
using Appliance.Configuration;

namespace Appliance.Cli.Settings;

/// <summary>
/// Reads the agent's TOML (<c>--config</c>, <c>APPLIANCE_CONFIG</c>, <c>/etc/appliance</c>) through the
/// same loader and checks, then applies the command line's <c>--scope</c>/cluster name and
/// <c>--dcs-url</c>. An operator's file needs only <c>[cluster] scope</c> and <c>[etcd]</c>: the keys only
/// a database node needs (<c>node.name</c>, <c>postgresql.data_dir</c>) get placeholders read before
/// the real files, so any real value wins. A missing default location is not an error when the
/// command line says where etcd is and which cluster (as patronictl ignores a missing default file).
/// </summary>
internal static class SettingsLoader
{
    private const string UnsetScope = "appliancectl-no-scope";
    private const string Placeholders = $"""
        [node]
        name = "appliancectl"
        [cluster]
        scope = "{UnsetScope}"
        [postgresql]
        data_dir = "/nonexistent/appliancectl"
        """;

    public static CtlSettings Load(string? configOption, string? envValue, string? scopeOverride, string? dcsUrl)
    {
        var explicitPath = !string.IsNullOrWhiteSpace(configOption) || !string.IsNullOrWhiteSpace(envValue);
        var files = ConfigLoader.Resolve(configOption, envValue);
        var texts = new List<(string, string)> { ("(appliancectl placeholders)", Placeholders) };
        foreach (var f in files)
        {
            if (!File.Exists(f))
            {
                if (explicitPath || dcsUrl is null || scopeOverride is null)
                    throw CtlException.UsageError($"configuration file {f} not found: pass --config PATH (or set APPLIANCE_CONFIG), or give --dcs-url and a cluster name");
                continue;
            }
            try
            {
                texts.Add((f, File.ReadAllText(f)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw CtlException.UsageError($"cannot read the configuration file {f}: {e.Message}");
            }
        }
        var loaded = ConfigLoader.LoadFromText(texts);
        if (!loaded.IsValid)
            throw CtlException.UsageError(string.Join('\n', loaded.Errors) + $"\n{loaded.Errors.Count} configuration error(s)");
        var config = loaded.Config;

        var cluster = config.Cluster;
        if (!string.IsNullOrWhiteSpace(scopeOverride)) cluster = cluster with { Scope = scopeOverride };
        if (cluster.Scope == UnsetScope)
            throw CtlException.UsageError("no cluster given: set [cluster] scope in the configuration, or pass the cluster name or --scope");

        var etcd = config.Etcd;
        if (dcsUrl is not null) etcd = etcd with { Endpoints = ParseDcsUrl(dcsUrl) };
        return new CtlSettings(etcd, cluster, config.Restapi);
    }

    /// <summary><c>http://host:port</c>, a comma-separated list of them, or <c>host:port</c> (http assumed; port 2379 when absent).</summary>
    public static IReadOnlyList<string> ParseDcsUrl(string value)
    {
        var list = new List<string>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var text = part.Contains("://", StringComparison.Ordinal) ? part : "http://" + part;
            if (text.StartsWith("etcd3://", StringComparison.Ordinal) || text.StartsWith("etcd://", StringComparison.Ordinal))
                text = "http://" + text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
            if (!Uri.TryCreate(text, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") || string.IsNullOrEmpty(u.Host))
                throw CtlException.UsageError($"--dcs-url: '{part}' is not an etcd URL like http://127.0.0.1:2379");
            list.Add($"{u.Scheme}://{u.Host}:{(u.IsDefaultPort && !part.Contains(":" + u.Port, StringComparison.Ordinal) ? 2379 : u.Port)}");
        }
        return list.Count > 0 ? list : throw CtlException.UsageError("--dcs-url is empty");
    }
}
