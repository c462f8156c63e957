namespace Appliance.Vrrp;

/// <summary>What the speaker must do after a step, in order. Data only: the state machine does no I/O.</summary>
public abstract record VrrpEffect
{
    private VrrpEffect() { }

    /// <summary>Send one advert carrying <paramref name="Priority"/> (0 when leaving Master).</summary>
    public sealed record SendAdvert(byte Priority) : VrrpEffect;

    /// <summary>Add the virtual addresses to the interface.</summary>
    public sealed record AddAddresses : VrrpEffect;

    /// <summary>Remove the virtual addresses (idempotent: also cleans up after a crashed earlier run).</summary>
    public sealed record RemoveAddresses : VrrpEffect;

    /// <summary>Send a burst of gratuitous ARPs for the virtual addresses (garp_master_repeat of them).</summary>
    public sealed record SendGarpBurst : VrrpEffect;

    /// <summary>Run the notify scripts for entering <paramref name="State"/> (Initialize means "stop") with the priority now in force.</summary>
    public sealed record Notify(VrrpState State, byte Priority) : VrrpEffect;

    /// <summary>The advert was dropped for <paramref name="Reason"/>: count it.</summary>
    public sealed record DropAdvert(VrrpDropReason Reason) : VrrpEffect;
}

/// <summary>Why an advert that parsed was dropped by the receive rules. Frozen names: metric label values.</summary>
public enum VrrpDropReason
{
    /// <summary>Its version differs from the instance's.</summary>
    VersionMismatch,
    /// <summary>v2: its Auth Type or password differ from ours.</summary>
    AuthMismatch,
    /// <summary>v2: its Adver Int differs from ours.</summary>
    IntervalMismatch,
    /// <summary>We are the address owner (priority 255): adverts are not for us to act on.</summary>
    OwnerIgnores,
    /// <summary>In a state that does not listen (Initialize, Fault).</summary>
    NotListening,
    /// <summary>Backup with preemption: a lower-priority master's advert is discarded so that we take over.</summary>
    Preempting,
    /// <summary>Master: an advert from a router that loses the election.</summary>
    LowerPriority,
}

/// <summary>A state change and why it happened (for logs and the transitions-by-reason metric).</summary>
public sealed record VrrpTransition(VrrpState From, VrrpState To, string Reason);

/// <summary>The outcome of one event: the new state, the effects in order, the transition if the state changed.</summary>
public sealed record VrrpStep(VrrpInstanceState State, IReadOnlyList<VrrpEffect> Effects, VrrpTransition? Transition);
