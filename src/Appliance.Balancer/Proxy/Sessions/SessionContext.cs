using Appliance.Balancer.Proxy.DataPath;
using Appliance.Balancer.Proxy.Pools;
using Appliance.Balancer.Proxy.Stats;
using Appliance.Configuration;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy.Sessions;

/// <summary>What every session of one listener shares: its settings, pool, counters, data path and log.</summary>
internal sealed record SessionContext(
    string Listener,
    ProxySection Proxy,
    IBackendPool Pool,
    ListenerStats Stats,
    IDataPath DataPath,
    PumpTimeouts Timeouts,
    TimeProvider Time,
    ILogger Log)
{
    /// <summary>ssl = "refuse": the proxy answers SSLRequest and GSSENCRequest with 'N' itself.</summary>
    public bool RefuseEncryption => Proxy.Ssl == "refuse";
}
