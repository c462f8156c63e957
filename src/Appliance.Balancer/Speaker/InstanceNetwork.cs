using Appliance.Configuration;
using Appliance.Linux.Net;
using Appliance.Net;
using Appliance.Vrrp;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Speaker;

/// <summary>
/// The I/O of one VRRP instance: its raw VRRP socket, the rtnetlink socket that adds and removes
/// its addresses, the packet socket its gratuitous ARPs leave by. Carries out the state machine's
/// effects; decides nothing. Failures are logged and counted, never thrown into the loop: a speaker
/// that cannot send one advert must keep running.
/// </summary>
public sealed class InstanceNetwork : IDisposable
{
    readonly VrrpInstanceSection _config;
    readonly VrrpSettings _settings;
    readonly ILogger _log;
    readonly VrrpSocket _vrrp;
    readonly RtnetlinkSocket _netlink;
    readonly GarpSocket _garp;
    readonly Ipv4Address[] _destinations;
    readonly string _label;
    int _lastAdvertError;
    int _lastGarpError;

    /// <summary>The interface index.</summary>
    public int IfIndex { get; }
    /// <summary>Our interface MAC, the GARPs' sender.</summary>
    public MacAddress Mac { get; }
    /// <summary>The configured virtual addresses.</summary>
    public IReadOnlyList<VirtualAddress> Addresses { get; }
    /// <summary>The raw socket's descriptor, for poll(2).</summary>
    public int Fd => _vrrp.Fd;

    InstanceNetwork(VrrpInstanceSection config, VrrpSettings settings, int ifindex, MacAddress mac, RtnetlinkSocket netlink, ILogger log)
    {
        _config = config;
        _settings = settings;
        _log = log;
        IfIndex = ifindex;
        Mac = mac;
        _netlink = netlink;
        Addresses = [.. config.VirtualIpaddress.Select(VirtualAddress.Parse)];
        var peers = config.UnicastPeers.Select(Ipv4Address.Parse).ToList();
        _destinations = peers.Count > 0 ? [.. peers] : [VrrpCodec.MulticastGroup];
        _label = VirtualAddress.Label(config.Interface, settings.VirtualRouterId);
        _vrrp = VrrpSocket.Open(config.Interface, ifindex, multicast: peers.Count == 0);
        _garp = GarpSocket.Open(ifindex);
    }

    /// <summary>
    /// Finds the interface and our primary address (<c>source_address</c>, or the interface's first
    /// IPv4 address that is not one of the virtual ones), opens the sockets.
    /// </summary>
    public static (InstanceNetwork Network, VrrpSettings Settings) Open(VrrpInstanceSection config, ILogger log)
    {
        var ifindex = NetInterface.IndexOf(config.Interface);
        var mac = NetInterface.MacOf(config.Interface);
        var netlink = RtnetlinkSocket.Open();
        try
        {
            var vips = config.VirtualIpaddress.Select(v => VirtualAddress.Parse(v).Address).ToHashSet();
            Ipv4Address primary;
            if (config.SourceAddress is { } source)
                primary = Ipv4Address.Parse(source);
            else
            {
                var found = netlink.GetAddresses(ifindex).Where(a => !vips.Contains(a.Address)).ToList();
                if (found.Count == 0)
                    throw new InvalidOperationException($"{config.Name}: {config.Interface} has no IPv4 address of its own to send adverts from; set source_address");
                primary = found[0].Address;
            }
            var settings = VrrpSettings.From(config, primary);
            return (new InstanceNetwork(config, settings, ifindex, mac, netlink, log), settings);
        }
        catch
        {
            netlink.Dispose();
            throw;
        }
    }

    /// <summary>Where adverts go: the unicast peers, or 224.0.0.18.</summary>
    public IReadOnlyList<Ipv4Address> Destinations => _destinations;

    /// <summary>Sends one advert with <paramref name="priority"/> to every destination; returns how many went out.</summary>
    public int SendAdvert(byte priority)
    {
        var advert = new VrrpAdvertisement
        {
            Version = _settings.Version,
            VirtualRouterId = _settings.VirtualRouterId,
            Priority = priority,
            IntervalCentiseconds = (int)(_settings.AdvertInterval.Ticks / (TimeSpan.TicksPerMillisecond * 10)),
            Addresses = [.. Addresses.Select(a => a.Address)],
            AuthType = _settings.AuthPass is null ? VrrpAuthType.None : VrrpAuthType.SimpleText,
            AuthData = _settings.AuthPass is { } pass ? VrrpAuthData.FromPassword(pass) : default,
        };
        Span<byte> buffer = stackalloc byte[VrrpPacket.GetLength(advert)];
        var sent = 0;
        foreach (var destination in _destinations)
        {
            // keepalived's header: TOS 0xc0 (network control), DF clear, TTL 255 (RFC 5798 5.1.1.3:
            // "The TTL MUST be set to 255"). The v3 checksum covers the destination, so one per peer.
            var header = new Ipv4Header
            {
                TypeOfService = 0xC0,
                TimeToLive = VrrpCodec.RequiredTtl,
                Protocol = VrrpCodec.IpProtocol,
                Source = _settings.PrimaryAddress,
                Destination = destination,
            };
            var n = VrrpPacket.Write(header, advert, buffer);
            if (_vrrp.Send(buffer[..n], destination, out var error)) sent++;
            else if (Once(ref _lastAdvertError, error))
                _log.Warn($"{_config.Name}: advert to {destination} not sent: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(error)} (logged once until it changes)");
        }
        if (sent == _destinations.Length) _lastAdvertError = 0;
        return sent;
    }

    /// <summary>True when <paramref name="error"/> differs from the last one logged (a link down at 10 adverts a second must not flood the log).</summary>
    static bool Once(ref int last, int error)
    {
        if (error == last) return false;
        last = error;
        return true;
    }

    /// <summary>Adds every virtual address (already there is fine).</summary>
    public void AddAddresses()
    {
        foreach (var vip in Addresses)
        {
            try
            {
                _netlink.AddAddress(IfIndex, vip, _label);
            }
            catch (NetException e)
            {
                _log.Error($"{_config.Name}: adding {vip} to {_config.Interface}: {e.Message}");
            }
        }
    }

    /// <summary>Removes every virtual address (absent is fine); returns the ones that were there.</summary>
    public List<VirtualAddress> RemoveAddresses()
    {
        var removed = new List<VirtualAddress>();
        foreach (var vip in Addresses)
        {
            try
            {
                if (_netlink.DeleteAddress(IfIndex, vip)) removed.Add(vip);
            }
            catch (NetException e)
            {
                _log.Error($"{_config.Name}: removing {vip} from {_config.Interface}: {e.Message}");
            }
        }
        return removed;
    }

    /// <summary>One burst: <c>garp_master_repeat</c> gratuitous ARPs per virtual address; returns how many went out.</summary>
    public int SendGarpBurst()
    {
        Span<byte> frame = stackalloc byte[GratuitousArp.FrameLength];
        var sent = 0;
        foreach (var vip in Addresses)
        {
            GratuitousArp.Write(Mac, vip.Address, frame);
            for (var i = 0; i < _config.GarpMasterRepeat; i++)
            {
                if (_garp.Send(frame, out var error)) sent++;
                else if (Once(ref _lastGarpError, error)) _log.Warn($"{_config.Name}: gratuitous ARP for {vip.Address} not sent: {System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(error)}");
            }
        }
        if (sent > 0) _lastGarpError = 0;
        return sent;
    }

    /// <summary>Reads one waiting datagram; 0 when none.</summary>
    public int Receive(Span<byte> buffer) => _vrrp.Receive(buffer);

    public void Dispose()
    {
        _vrrp.Dispose();
        _garp.Dispose();
        _netlink.Dispose();
    }
}
