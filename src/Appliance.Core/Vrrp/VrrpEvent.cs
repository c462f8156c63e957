using Appliance.Net;

namespace Appliance.Vrrp;

/// <summary>What happens to an instance. The speaker turns sockets, timers and checks into these.</summary>
public abstract record VrrpEvent
{
    private VrrpEvent() { }

    /// <summary>RFC 5798's Startup event: the instance starts.</summary>
    public sealed record Startup : VrrpEvent;

    /// <summary>RFC 5798's Shutdown event: the instance stops (SIGTERM, reload without it).</summary>
    public sealed record Shutdown : VrrpEvent;

    /// <summary>Time passed: fire every timer whose deadline is at or before now.</summary>
    public sealed record Tick : VrrpEvent;

    /// <summary>An advert for our VRID arrived (already parsed and TTL-checked by <see cref="VrrpPacket"/>) from <paramref name="Source"/>.</summary>
    public sealed record AdvertReceived(VrrpAdvertisement Advertisement, Ipv4Address Source) : VrrpEvent;

    /// <summary>The tracked conditions changed verdict.</summary>
    public sealed record TrackingChanged(VrrpTracking Tracking) : VrrpEvent;
}
