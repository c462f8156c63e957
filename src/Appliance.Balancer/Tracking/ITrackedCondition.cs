namespace Appliance.Balancer.Tracking;

/// <summary>
/// One condition a VRRP instance tracks (keepalived's track_script, track_interface, and the
/// proxy's own health): its weight and its current verdict. This is the seam the proxy plugs into:
/// it hands the instances a <see cref="TrackedFlag"/> and sets it as its backends come and go.
/// </summary>
public interface ITrackedCondition
{
    /// <summary>For logs.</summary>
    string Name { get; }
    /// <summary>keepalived's weight: negative added while down, positive while up, 0 = Fault while down.</summary>
    int Weight { get; }
    /// <summary>The verdict now (after rise/fall). Read from the speaker's thread.</summary>
    bool Up { get; }
    /// <summary>Raised from any thread after <see cref="Up"/> changed.</summary>
    event Action<ITrackedCondition>? Changed;
}

/// <summary>A condition set from outside (the proxy's health): <see cref="Set"/> raises <see cref="Changed"/> when the verdict flips.</summary>
public sealed class TrackedFlag(string name, int weight, bool up) : ITrackedCondition
{
    volatile bool _up = up;

    public string Name => name;
    public int Weight => weight;
    public bool Up => _up;
    public event Action<ITrackedCondition>? Changed;

    /// <summary>Sets the verdict; raises <see cref="Changed"/> only on a change.</summary>
    public void Set(bool up)
    {
        if (_up == up) return;
        _up = up;
        Changed?.Invoke(this);
    }
}
