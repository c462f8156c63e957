using Appliance.Net;

namespace Appliance.Vrrp;

/// <summary>Why the speaker dropped a datagram before the state machine saw it. Frozen names: metric label values.</summary>
public enum VrrpFilterDrop
{
    /// <summary>Not dropped.</summary>
    None,
    /// <summary>Parsed, but for another virtual router (another VRID on the same link).</summary>
    VridMismatch,
    /// <summary>Our own advert came back (source is our primary address).</summary>
    OwnAdvert,
    /// <summary>Unicast mode: the sender is not one of the configured <c>unicast_peers</c>.</summary>
    UnknownPeer,
}

/// <summary>What became of one received datagram: an event for the state machine, or the reason it was dropped.</summary>
/// <param name="Event">The advert to feed the machine, when accepted.</param>
/// <param name="Reason">The drop reason as the metric label: a <see cref="VrrpError"/> or <see cref="VrrpFilterDrop"/> name; empty when accepted.</param>
/// <param name="Detail">What was found, for a debug log.</param>
public readonly record struct VrrpReceiveResult(VrrpEvent.AdvertReceived? Event, string Reason, string Detail);

/// <summary>
/// The speaker's first look at a datagram from the raw socket, before the state machine: the
/// checks RFC 5798 section 7.1 makes of every packet that need no instance state (IP header, TTL
/// 255, VRRP syntax and checksum, via <see cref="VrrpPacket"/>), then which instance it belongs to.
/// Auth, version and interval are the state machine's (it counts those drops as effects).
/// </summary>
public sealed record VrrpReceiveFilter(byte VirtualRouterId, Ipv4Address OwnAddress, IReadOnlyList<Ipv4Address> UnicastPeers)
{
    /// <summary>Classifies one datagram as the raw socket returned it (with its IPv4 header).</summary>
    public VrrpReceiveResult Classify(ReadOnlySpan<byte> datagram)
    {
        var parsed = VrrpPacket.Parse(datagram);
        if (!parsed.IsValid)
            return new(null, parsed.Error.ToString(), parsed.Message);
        var source = parsed.Header!.Source;
        // keepalived drops its own adverts as well; with IP_MULTICAST_LOOP off they should not come back.
        if (source == OwnAddress)
            return new(null, nameof(VrrpFilterDrop.OwnAdvert), $"from our own address {source}");
        // RFC 5798 7.1: "MUST verify that the VRID is configured on the receiving interface" — one
        // socket per instance, so another VRID is another virtual router's traffic.
        if (parsed.Advertisement.VirtualRouterId != VirtualRouterId)
            return new(null, nameof(VrrpFilterDrop.VridMismatch), $"VRID {parsed.Advertisement.VirtualRouterId} from {source}, ours is {VirtualRouterId}");
        if (UnicastPeers.Count > 0 && !UnicastPeers.Contains(source))
            return new(null, nameof(VrrpFilterDrop.UnknownPeer), $"from {source}, not a configured unicast peer");
        return new(new VrrpEvent.AdvertReceived(parsed.Advertisement, source), "", "");
    }
}
