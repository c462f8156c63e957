namespace Appliance.Vrrp;

/// <summary>
/// The VRRP state machine of RFC 5798 section 6.4 (and RFC 3768's for v2) with keepalived's Fault
/// state, as a pure function: (settings, state, event, now) → (new state, effects). No I/O, no
/// clock: <c>now</c> is the caller's monotonic time, and timers are deadlines in the state. The
/// RFC's MUST sentences are quoted beside the code that obeys them.
/// </summary>
public static class VrrpMachine
{
    /// <summary>Applies <paramref name="event"/> at <paramref name="now"/>. Dispatched on (state, event), one handler per cell.</summary>
    public static VrrpStep Step(VrrpSettings settings, VrrpInstanceState state, VrrpEvent @event, TimeSpan now) =>
        (state.State, @event) switch
        {
            (VrrpState.Initialize, VrrpEvent.Startup) => Start(settings, state, now, "startup"),
            (_, VrrpEvent.Startup) => Same(state),

            (VrrpState.Backup, VrrpEvent.Shutdown) => Stop(state, [], "shutdown"),
            // "If a Shutdown event is received, then: Cancel the Adver_Timer; Send an ADVERTISEMENT
            // with Priority = 0; Transition to the {Initialize} state" (6.4.3).
            (VrrpState.Master, VrrpEvent.Shutdown) => Stop(state, [new VrrpEffect.SendAdvert(0), new VrrpEffect.RemoveAddresses()], "shutdown"),
            (VrrpState.Fault, VrrpEvent.Shutdown) => Stop(state, [], "shutdown"),
            (VrrpState.Initialize, VrrpEvent.Shutdown) => Same(state),

            (VrrpState.Backup, VrrpEvent.Tick) => BackupTick(settings, state, now),
            (VrrpState.Master, VrrpEvent.Tick) => MasterTick(settings, state, now),
            (_, VrrpEvent.Tick) => Same(state),

            (VrrpState.Backup or VrrpState.Master, VrrpEvent.AdvertReceived advert) => Receive(settings, state, advert, now),
            (_, VrrpEvent.AdvertReceived) => Drop(state, VrrpDropReason.NotListening),

            (_, VrrpEvent.TrackingChanged tracking) => Track(settings, state, tracking.Tracking, now),

            _ => Same(state),
        };

    /// <summary>The priority in force: the configured one moved by tracking.</summary>
    public static byte Priority(VrrpSettings settings, VrrpInstanceState state) => state.Tracking.EffectivePriority(settings.Priority);

    // 6.4.1 Initialize: "If the Priority = 255 ... Send an ADVERTISEMENT; Broadcast a gratuitous ARP
    // request ...; Set the Adver_Timer to Advertisement_Interval; Transition to the {Master} state.
    // else: Set Master_Adver_Interval to Advertisement_Interval; Set the Master_Down_Timer to
    // Master_Down_Interval; Transition to the {Backup} state." keepalived adds Fault first.
    private static VrrpStep Start(VrrpSettings settings, VrrpInstanceState state, TimeSpan now, string reason)
    {
        if (state.Tracking.Fault)
            return Enter(state, state with { State = VrrpState.Fault, AdverTimer = null, MasterDownTimer = null, GarpTimer = null },
                // A crashed earlier run may have left the addresses behind.
                [new VrrpEffect.RemoveAddresses(), new VrrpEffect.Notify(VrrpState.Fault, Priority(settings, state))], $"{reason}: a tracked condition is down");
        if (settings.IsOwner)
            return BecomeMaster(settings, state, now, $"{reason}: address owner (priority 255)");
        var next = BackupState(settings, state, now, settings.AdvertInterval) with
        {
            PreemptHoldUntil = settings.PreemptDelay > TimeSpan.Zero ? now + settings.PreemptDelay : null,
            MasterAddress = null,
        };
        return Enter(state, next, [new VrrpEffect.RemoveAddresses(), new VrrpEffect.Notify(VrrpState.Backup, Priority(settings, state))], reason);
    }

    private static VrrpStep Stop(VrrpInstanceState state, List<VrrpEffect> effects, string reason)
    {
        effects.Add(new VrrpEffect.Notify(VrrpState.Initialize, 0));
        return Enter(state, state with { State = VrrpState.Initialize, AdverTimer = null, MasterDownTimer = null, GarpTimer = null, PreemptHoldUntil = null }, effects, reason);
    }

    // 6.4.2 Backup: "If the Master_Down_Timer fires, then: Send an ADVERTISEMENT; Broadcast a
    // gratuitous ARP request ...; Set the Adver_Timer to Advertisement_Interval; Transition to the {Master} state."
    private static VrrpStep BackupTick(VrrpSettings settings, VrrpInstanceState state, TimeSpan now) =>
        state.MasterDownTimer is { } due && due <= now
            ? BecomeMaster(settings, state, now, "Master_Down_Timer fired: no usable advert from a master")
            : Same(state);

    // 6.4.3 Master: "If the Adver_Timer fires, then: Send an ADVERTISEMENT; Reset the Adver_Timer to Advertisement_Interval."
    private static VrrpStep MasterTick(VrrpSettings settings, VrrpInstanceState state, TimeSpan now)
    {
        var effects = new List<VrrpEffect>();
        var next = state;
        if (state.AdverTimer is { } adver && adver <= now)
        {
            effects.Add(new VrrpEffect.SendAdvert(Priority(settings, state)));
            next = next with { AdverTimer = now + settings.AdvertInterval };
        }
        if (state.GarpTimer is { } garp && garp <= now)
        {
            effects.Add(new VrrpEffect.SendGarpBurst());
            next = next with { GarpTimer = settings.GarpMasterRefresh > TimeSpan.Zero ? now + settings.GarpMasterRefresh : null };
        }
        return new VrrpStep(next, effects, null);
    }

    private static VrrpStep Receive(VrrpSettings settings, VrrpInstanceState state, VrrpEvent.AdvertReceived received, TimeSpan now)
    {
        var ad = received.Advertisement;
        // 7.1: "MUST verify the VRRP version is 3" (RFC 3768: "is 2"): the instance speaks one version.
        if (ad.Version != settings.Version)
            return Drop(state, VrrpDropReason.VersionMismatch);
        if (settings.Version == VrrpVersion.V2)
        {
            // RFC 3768 7.1: "MUST verify that the Auth Type matches the locally configured
            // authentication method for the virtual router" (and, for keepalived's PASS, the password).
            var (type, data) = settings.AuthPass is { } pass
                ? (VrrpAuthType.SimpleText, VrrpAuthData.FromPassword(pass))
                : (VrrpAuthType.None, ad.AuthData);
            if (ad.AuthType != type || ad.AuthData != data)
                return Drop(state, VrrpDropReason.AuthMismatch);
            // RFC 3768 7.1: "MUST verify that the Adver Interval in the packet is the same as the
            // locally configured for this virtual router ... If the above check fails, the receiver
            // MUST discard the packet". (v3 learns the master's interval instead, below.)
            if (ad.Interval != settings.AdvertInterval)
                return Drop(state, VrrpDropReason.IntervalMismatch);
        }
        // 7.1: "MUST verify that the VRID is configured on the receiving interface and the local
        // router is not the IPvX address owner (Priority = 255 (decimal))." (The speaker demultiplexes by VRID.)
        if (settings.IsOwner)
            return Drop(state, VrrpDropReason.OwnerIgnores);

        var priority = Priority(settings, state);
        return state.State == VrrpState.Backup
            ? BackupReceive(settings, state, received, priority, now)
            : MasterReceive(settings, state, received, priority, now);
    }

    private static VrrpStep BackupReceive(VrrpSettings settings, VrrpInstanceState state, VrrpEvent.AdvertReceived received, byte priority, TimeSpan now)
    {
        var ad = received.Advertisement;
        // 6.4.2: "If the Priority in the ADVERTISEMENT is zero, then: Set the Master_Down_Timer to Skew_Time".
        if (ad.Priority == 0)
            return new VrrpStep(state with { MasterDownTimer = now + settings.SkewTime(priority, state.MasterAdverInterval) }, [], null);

        // keepalived's preempt_delay: a lower-priority master is still followed until the hold ends.
        var hold = state.PreemptHoldUntil;
        var lower = ad.Priority < priority;
        if (lower && settings.Preempt && settings.PreemptDelay > TimeSpan.Zero && hold is null)
            hold = now + settings.PreemptDelay;
        var holding = lower && hold is { } until && now < until;

        // 6.4.2: "If Preempt_Mode is False, or if the Priority in the ADVERTISEMENT is greater than or
        // equal to the local Priority, then: Set Master_Adver_Interval to Adver Interval contained in
        // the ADVERTISEMENT; Recompute the Master_Down_Interval; Reset the Master_Down_Timer to
        // Master_Down_Interval; else (Preempt_Mode is True and Priority is less than the local Priority):
        // Discard the ADVERTISEMENT."
        if (!settings.Preempt || !lower || holding)
        {
            var interval = settings.Version == VrrpVersion.V3 ? ad.Interval : settings.AdvertInterval;
            return new VrrpStep(state with
            {
                MasterAdverInterval = interval,
                MasterDownTimer = now + settings.MasterDownInterval(priority, interval),
                MasterAddress = received.Source,
                PreemptHoldUntil = lower ? hold : null,
            }, [], null);
        }
        return Drop(state with { PreemptHoldUntil = hold }, VrrpDropReason.Preempting);
    }

    private static VrrpStep MasterReceive(VrrpSettings settings, VrrpInstanceState state, VrrpEvent.AdvertReceived received, byte priority, TimeSpan now)
    {
        var ad = received.Advertisement;
        // 6.4.3: "If the Priority in the ADVERTISEMENT is zero, then: Send an ADVERTISEMENT; Reset the
        // Adver_Timer to Advertisement_Interval".
        if (ad.Priority == 0)
            return new VrrpStep(state with { AdverTimer = now + settings.AdvertInterval }, [new VrrpEffect.SendAdvert(priority)], null);

        // 6.4.3: "If the Priority in the ADVERTISEMENT is greater than the local Priority or the
        // Priority in the ADVERTISEMENT is equal to the local Priority and the primary IPvX address of
        // the sender is greater than the local primary IPvX address (based on an unsigned integer
        // comparison of the IPvX addresses in network byte order), then: Cancel Adver_Timer; Set
        // Master_Adver_Interval to Adver Interval contained in the ADVERTISEMENT; Recompute the
        // Skew_Time; Recompute the Master_Down_Interval; Set Master_Down_Timer to Master_Down_Interval;
        // Transition to the {Backup} state. else: Discard the ADVERTISEMENT."
        if (ad.Priority > priority || ad.Priority == priority && received.Source > settings.PrimaryAddress)
        {
            var interval = settings.Version == VrrpVersion.V3 ? ad.Interval : settings.AdvertInterval;
            var next = BackupState(settings, state, now, interval) with { MasterAddress = received.Source };
            var why = ad.Priority > priority
                ? $"advert from {received.Source} with priority {ad.Priority} > {priority}"
                : $"advert from {received.Source} with equal priority {priority} and a higher address than {settings.PrimaryAddress}";
            return Enter(state, next, [new VrrpEffect.RemoveAddresses(), new VrrpEffect.Notify(VrrpState.Backup, priority)], why);
        }
        return Drop(state, VrrpDropReason.LowerPriority);
    }

    // keepalived: a failing weight-0 condition faults the instance (a master first says goodbye with
    // priority 0 so a backup takes over after its skew time); when it clears, the instance starts again.
    private static VrrpStep Track(VrrpSettings settings, VrrpInstanceState state, VrrpTracking tracking, TimeSpan now)
    {
        var next = state with { Tracking = tracking };
        var priority = tracking.EffectivePriority(settings.Priority);
        return (state.State, tracking.Fault) switch
        {
            (VrrpState.Master, true) => Enter(state, next with { State = VrrpState.Fault, AdverTimer = null, GarpTimer = null },
                [new VrrpEffect.SendAdvert(0), new VrrpEffect.RemoveAddresses(), new VrrpEffect.Notify(VrrpState.Fault, priority)], "a tracked condition is down"),
            (VrrpState.Backup, true) => Enter(state, next with { State = VrrpState.Fault, MasterDownTimer = null },
                [new VrrpEffect.Notify(VrrpState.Fault, priority)], "a tracked condition is down"),
            (VrrpState.Fault, false) => Recover(settings, next, now),
            _ => new VrrpStep(next, [], null),
        };
    }

    /// <summary>Out of Fault as if started afresh (Backup, or Master for the owner).</summary>
    private static VrrpStep Recover(VrrpSettings settings, VrrpInstanceState faulted, TimeSpan now)
    {
        var step = Start(settings, faulted with { State = VrrpState.Initialize }, now, "tracked conditions are up again");
        return step with { Transition = step.Transition is { } t ? t with { From = VrrpState.Fault } : null };
    }

    private static VrrpStep BecomeMaster(VrrpSettings settings, VrrpInstanceState state, TimeSpan now, string reason)
    {
        var garp = settings.GarpMasterDelay > TimeSpan.Zero ? settings.GarpMasterDelay
            : settings.GarpMasterRefresh > TimeSpan.Zero ? settings.GarpMasterRefresh
            : (TimeSpan?)null;
        var next = state with
        {
            State = VrrpState.Master,
            MasterAdverInterval = settings.AdvertInterval,
            AdverTimer = now + settings.AdvertInterval,
            MasterDownTimer = null,
            GarpTimer = now + garp,
            PreemptHoldUntil = null,
            MasterAddress = settings.PrimaryAddress,
        };
        var priority = Priority(settings, state);
        // The addresses go on before the advert and the ARPs, so that traffic they attract is accepted.
        return Enter(state, next,
            [new VrrpEffect.AddAddresses(), new VrrpEffect.SendAdvert(priority), new VrrpEffect.SendGarpBurst(), new VrrpEffect.Notify(VrrpState.Master, priority)], reason);
    }

    private static VrrpInstanceState BackupState(VrrpSettings settings, VrrpInstanceState state, TimeSpan now, TimeSpan masterAdverInterval) => state with
    {
        State = VrrpState.Backup,
        MasterAdverInterval = masterAdverInterval,
        MasterDownTimer = now + settings.MasterDownInterval(state.Tracking.EffectivePriority(settings.Priority), masterAdverInterval),
        AdverTimer = null,
        GarpTimer = null,
    };

    private static VrrpStep Enter(VrrpInstanceState from, VrrpInstanceState to, List<VrrpEffect> effects, string reason) =>
        new(to, effects, new VrrpTransition(from.State, to.State, reason));

    private static VrrpStep Same(VrrpInstanceState state) => new(state, [], null);

    private static VrrpStep Drop(VrrpInstanceState state, VrrpDropReason reason) => new(state, [new VrrpEffect.DropAdvert(reason)], null);
}
