namespace Appliance.Configuration;

/// <summary>Checks that need the whole merged configuration: required keys and rules that tie keys together.</summary>
internal static class ConfigRules
{
    /// <summary>Adds an error for each rule the configuration breaks.</summary>
    /// <param name="config">The bound configuration.</param>
    /// <param name="tree">The merged TOML: says where (and whether) each key was defined.</param>
    /// <param name="lastFile">Where an absent key is reported: the last file read, the one an operator would add it to.</param>
    /// <param name="errors">Where errors go.</param>
    /// <param name="role">Which binary loads it: decides the required keys.</param>
    public static void Check(ApplianceConfig config, TomlTableNode tree, SourceLocation lastFile, ErrorList errors, ConfigRole role = ConfigRole.Agent)
    {
        // The image's node set-up needs, besides its own keys, every key of the daemons its roles run.
        var roles = role == ConfigRole.Node ? [role, .. SystemRules.DaemonRoles(config.System)] : new[] { role };
        foreach (var key in roles.SelectMany(ConfigSchema.RequiredKeys).Distinct(StringComparer.Ordinal))
        {
            if (tree.Find(key) is null)
                errors.Add(lastFile with { Line = 0, Column = 0 }, key, "required key missing: set it in one of the configuration files");
        }
        if (role == ConfigRole.Node)
            SystemRules.Check(config, tree, lastFile, errors);

        CheckLeaseTimings(config.Agent, tree, lastFile, errors);
        CheckCertificatePair("etcd", config.Etcd.CertFile, config.Etcd.KeyFile, "mutual TLS needs the client certificate and its key together", tree, errors);
        CheckCertificatePair("restapi", config.Restapi.CertFile, config.Restapi.KeyFile, "HTTPS needs the server certificate and its key together", tree, errors);
        CheckWatchdogMargin(config, tree, errors);
        VrrpRules.Check(config.Vrrp, config.Proxy.Listener.Count > 0, tree, lastFile, errors, roles.Contains(ConfigRole.Balancer) ? ConfigRole.Balancer : role);
        ProxyRules.Check(config.Proxy, tree, lastFile, errors);
    }

    /// <summary>
    /// loop_wait + 2 × retry_timeout ≤ ttl. A primary learns that it cannot renew its lease at the
    /// latest one loop plus a failed attempt after its last renewal, and the demote itself may take
    /// another retry_timeout; all of it must fit in the lease, or a replica could be promoted while
    /// the old primary still accepts writes.
    /// </summary>
    private static void CheckLeaseTimings(AgentSection agent, TomlTableNode tree, SourceLocation lastFile, ErrorList errors)
    {
        string[] keys = ["agent.ttl", "agent.loop_wait", "agent.retry_timeout"];
        if (keys.Any(errors.HasFailed))
            return;
        var needed = (long)agent.LoopWait + 2L * agent.RetryTimeout;
        if (needed <= agent.Ttl)
            return;

        var (key, at) = LaterDefined(tree, keys) ?? ("agent.ttl", lastFile with { Line = 0, Column = 0 });
        errors.Add(at, key,
            $"expected loop_wait + 2 × retry_timeout <= ttl, found {agent.LoopWait} + 2 × {agent.RetryTimeout} = {needed} > {agent.Ttl}: "
            + "a primary that cannot renew its leader lease must have time to notice and demote before the lease expires, "
            + "or a new primary could be elected while it still accepts writes");
    }

    /// <summary>TLS needs both halves: a certificate without its key (or the reverse) cannot authenticate.</summary>
    private static void CheckCertificatePair(string section, string? certFile, string? keyFile, string why, TomlTableNode tree, ErrorList errors)
    {
        if (errors.HasFailed($"{section}.cert_file") || errors.HasFailed($"{section}.key_file") || (certFile is null) == (keyFile is null))
            return;
        var (set, unset) = certFile is not null ? ("cert_file", "key_file") : ("key_file", "cert_file");
        var key = $"{section}.{set}";
        if (tree.Find(key) is { } entry)
            errors.Add(entry.KeyLocation, key, $"expected {section}.{unset} too, found only {section}.{set}: {why}");
    }

    /// <summary>
    /// The watchdog must fire before the leader lease expires (timeout = ttl - safety_margin ≥ 1 s): a hung
    /// primary has to be reset before a replica can take over.
    /// </summary>
    private static void CheckWatchdogMargin(ApplianceConfig config, TomlTableNode tree, ErrorList errors)
    {
        if (config.Watchdog.Mode == "off" || errors.HasFailed("watchdog.safety_margin") || errors.HasFailed("agent.ttl")
            || config.Watchdog.SafetyMargin < config.Agent.Ttl)
            return;
        if (tree.Find("watchdog.safety_margin") is { } entry)
            errors.Add(entry.KeyLocation, "watchdog.safety_margin",
                $"expected less than agent.ttl ({config.Agent.Ttl}), found {config.Watchdog.SafetyMargin}: the watchdog timeout is ttl - safety_margin and must be at least 1 s");
    }

    /// <summary>Of the keys that some file defines, the one defined last (in merge order), with its place.</summary>
    private static (string Key, SourceLocation At)? LaterDefined(TomlTableNode tree, IEnumerable<string> keys)
    {
        (string Key, SourceLocation At)? latest = null;
        foreach (var key in keys)
        {
            if (tree.Find(key) is { } entry && (latest is null || entry.KeyLocation.IsAfter(latest.Value.At)))
                latest = (key, entry.KeyLocation);
        }
        return latest;
    }
}
