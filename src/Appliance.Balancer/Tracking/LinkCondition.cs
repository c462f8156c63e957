using Appliance.Linux.Net;

namespace Appliance.Balancer.Tracking;

/// <summary>
/// keepalived's track_interface: an interface's link state, read from sysfs' operstate once a
/// second (the instance's own interface is tracked this way too, with weight 0: no link, Fault).
/// Polling is simple and bounded; a later change may listen to RTM_NEWLINK events for speed.
/// </summary>
public sealed class LinkCondition : ITrackedCondition, IDisposable
{
    readonly Timer _timer;
    volatile bool _up;

    public LinkCondition(string interfaceName, int weight, TimeSpan period)
    {
        Name = $"link {interfaceName}";
        Interface = interfaceName;
        Weight = weight;
        _up = NetInterface.IsLinkUp(interfaceName);
        _timer = new Timer(_ => Poll(), null, period, period);
    }

    public string Name { get; }
    public string Interface { get; }
    public int Weight { get; }
    public bool Up => _up;
    public event Action<ITrackedCondition>? Changed;

    void Poll()
    {
        var up = NetInterface.IsLinkUp(Interface);
        if (up == _up) return;
        _up = up;
        Changed?.Invoke(this);
    }

    public void Dispose() => _timer.Dispose();
}
