using System.Text.Json;
using Appliance.Configuration;

namespace Appliance.Agent.Ha;

/// <summary>The <c>config</c> key the bootstrapping node writes, in Patroni's shape.</summary>
public static class DynamicConfigJson
{
    public static string FromLocal(ApplianceConfig c)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("ttl", c.Agent.Ttl);
            w.WriteNumber("loop_wait", c.Agent.LoopWait);
            w.WriteNumber("retry_timeout", c.Agent.RetryTimeout);
            w.WriteNumber("maximum_lag_on_failover", c.Agent.MaximumLagOnFailover);
            w.WriteBoolean("synchronous_mode", c.Agent.SynchronousMode);
            if (c.Agent.SynchronousModeStrict) w.WriteBoolean("synchronous_mode_strict", true);
            if (c.Agent.SynchronousNodeCount != 1) w.WriteNumber("synchronous_node_count", c.Agent.SynchronousNodeCount);
            w.WriteStartObject("postgresql");
            w.WriteBoolean("use_pg_rewind", false);
            w.WriteBoolean("use_slots", true);
            w.WriteStartObject("parameters");
            foreach (var (k, v) in c.Postgresql.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
                w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
