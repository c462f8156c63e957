using Appliance.Configuration;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>The check <c>[proxy.check] type</c> names, built from the configuration (validated before, so the type is known).</summary>
public static class BackendChecks
{
    public static IBackendCheck Create(ProxySection proxy, TimeProvider time)
    {
        var c = proxy.Check;
        return c.Type switch
        {
            "http" => new HttpCheck(c.Timeout, proxy.MaximumReplicaLag, time),
            "pgsql" => new PgsqlStartupCheck(c.User, c.Database, c.Timeout, time),
            "pgsql-login" => new PgsqlLoginCheck(c.User, c.Password, c.Database, c.Timeout, time),
            "tcp" => new TcpCheck(c.Timeout, time),
            _ => throw new ArgumentException($"[proxy.check] type '{c.Type}' is not http, pgsql, pgsql-login or tcp", nameof(proxy)),
        };
    }
}
