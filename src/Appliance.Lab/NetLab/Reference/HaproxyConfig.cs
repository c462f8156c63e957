using System.Globalization;

namespace Appliance.Lab.NetLab.Reference;

/// <summary>
/// A balancer node's haproxy.cfg for HAProxy 2.6 (Debian's package): the seed's
/// (../shared/compat/patroni-3.0.2/rendered_haproxy.cfg), the common Patroni setup where each
/// listener health-checks every member's REST API, with the lab's ports and profile checks.
/// </summary>
public static class HaproxyConfig
{
    /// <summary>The haproxy.cfg of <paramref name="node"/>.</summary>
    public static string Render(NetLab lab, LabNode node)
    {
        var p = lab.Profile;
        var ms = (int)Math.Round(p.CheckInter * 1000);
        var inter = ms % 1000 == 0 ? $"{ms / 1000}s" : $"{ms}ms";
        var checks = $"default-server inter {inter} fall {p.CheckFall} rise {p.CheckRise} on-marked-down shutdown-sessions";
        var servers = string.Join("\n", lab.Databases.Select(d =>
            $"    server {d.Name} {d.Address}:{LabLayout.PostgresPort} maxconn 100 check port {LabLayout.RestApiPort}"));
        // The listeners bind the VIP itself, as the appliance's balancer does (the seed binds *):
        // "transparent" lets the backup bind it before it holds the address.
        return string.Create(CultureInfo.InvariantCulture, $"""
            # written by the Appliance lab for {node.Name} (reference stack, {p.Name} profile)
            global
                maxconn 1000
                stats socket {Path.Combine(node.Dir, "haproxy.sock")} mode 600 level admin
                stats timeout 30s

            defaults
                mode tcp
                retries 2
                timeout client 30m
                timeout connect 5s
                timeout server 30m
                timeout check 5s

            listen stats
                mode http
                bind *:{LabLayout.BalancerStatusPort}
                stats enable
                stats uri /

            listen primary
                bind {LabLayout.Vip}:{LabLayout.PrimaryPort} transparent
                option httpchk OPTIONS /primary
                http-check expect status 200
                {checks}
            {servers}

            listen replicas
                bind {LabLayout.Vip}:{LabLayout.ReplicaPort} transparent
                balance roundrobin
                option httpchk OPTIONS /replica
                http-check expect status 200
                {checks}
            {servers}

            """);
    }
}
