using System.Text.Json;
using Appliance.Balancer.Notify;
using Appliance.Balancer.Speaker;

namespace Appliance.Balancer.Http;

/// <summary>
/// <c>GET /status</c>: the VRRP instances as JSON, written by hand with <see cref="Utf8JsonWriter"/>
/// (no reflection, AOT-safe). Field names are a contract for operators' scripts: add, never rename.
/// <code>{"instances":[{"name":"VI_1","interface":"eth0","virtual_router_id":51,"version":2,"state":"MASTER",
///   "priority":100,"effective_priority":100,"source_address":"10.0.0.11","master_address":"10.0.0.11",
///   "virtual_ipaddress":["10.0.0.100/24"],"fault":false,"last_transition":"2026-...Z","last_reason":"..."}]}</code>
/// </summary>
public static class StatusJson
{
    public static byte[] Write(IEnumerable<InstanceStatus> instances)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartArray("instances");
            foreach (var s in instances)
            {
                w.WriteStartObject();
                w.WriteString("name", s.Name);
                w.WriteString("interface", s.Interface);
                w.WriteNumber("virtual_router_id", s.VirtualRouterId);
                w.WriteNumber("version", s.Version);
                w.WriteString("state", NotifyScripts.StateWord(s.State) is "STOP" ? "INIT" : NotifyScripts.StateWord(s.State));
                w.WriteNumber("priority", s.Priority);
                w.WriteNumber("effective_priority", s.EffectivePriority);
                w.WriteString("source_address", s.SourceAddress.ToString());
                if (s.MasterAddress is { } m) w.WriteString("master_address", m.ToString());
                else w.WriteNull("master_address");
                w.WriteStartArray("virtual_ipaddress");
                foreach (var v in s.VirtualAddresses) w.WriteStringValue(v.ToString());
                w.WriteEndArray();
                w.WriteBoolean("fault", s.Fault);
                if (s.LastTransition is { } at) w.WriteString("last_transition", at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
                else w.WriteNull("last_transition");
                if (s.LastReason is { } r) w.WriteString("last_reason", r);
                else w.WriteNull("last_reason");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}
