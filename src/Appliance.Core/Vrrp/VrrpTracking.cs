namespace Appliance.Vrrp;

/// <summary>One tracked condition (a check script, an interface's link, the proxy's health) as the state machine sees it.</summary>
/// <param name="Weight">keepalived's weight: negative is added while down, positive while up; 0 means down is a fault.</param>
/// <param name="Up">The condition's current verdict (after rise/fall).</param>
public readonly record struct TrackedCondition(int Weight, bool Up);

/// <summary>
/// The sum of all tracked conditions: keepalived's rule. Effective priority = configured priority +
/// the weights that apply (negative ones of failing conditions, positive ones of healthy ones),
/// kept within 1-254; any failing condition of weight 0 puts the instance in Fault. The address
/// owner's 255 is not moved by weights (it owns the addresses), but it can still fault.
/// </summary>
public readonly record struct VrrpTracking(int PriorityDelta, bool Fault)
{
    /// <summary>Nothing tracked, or all well with no weights.</summary>
    public static readonly VrrpTracking Healthy = new(0, false);

    /// <summary>Folds the conditions into one tracking state.</summary>
    public static VrrpTracking From(IEnumerable<TrackedCondition> conditions)
    {
        var delta = 0;
        var fault = false;
        foreach (var c in conditions)
        {
            if (c.Weight == 0)
                fault |= !c.Up;
            else if (c.Weight < 0 && !c.Up || c.Weight > 0 && c.Up)
                delta += c.Weight;
        }
        return new(delta, fault);
    }

    /// <summary>The priority adverts carry and elections use.</summary>
    public byte EffectivePriority(byte configured) =>
        configured == 255 ? configured : (byte)Math.Clamp(configured + PriorityDelta, 1, 254);
}
