using Appliance.Net;
using Appliance.Vrrp;
using static Appliance.Vrrp.VrrpEffect;

namespace Appliance.Core.Tests.Vrrp;

/// <summary>
/// The transitions of RFC 5798 section 6.4 (and RFC 3768's v2 timings), preemption, preempt_delay and
/// tracking, one row each, on an injected clock (<c>T(s)</c>: seconds since an arbitrary start).
/// </summary>
public sealed class VrrpMachineTests
{
    static readonly Ipv4Address Me = Ipv4Address.Parse("10.0.0.12");
    static readonly Ipv4Address Lower = Ipv4Address.Parse("10.0.0.11");
    static readonly Ipv4Address Higher = Ipv4Address.Parse("10.0.0.13");
    static TimeSpan T(double seconds) => TimeSpan.FromSeconds(seconds);

    static VrrpSettings V3(byte priority = 100, bool preempt = true, double preemptDelay = 0) => new()
    {
        Version = VrrpVersion.V3, VirtualRouterId = 52, Priority = priority, AdvertInterval = T(1),
        Preempt = preempt, PreemptDelay = T(preemptDelay), PrimaryAddress = Me, GarpMasterDelay = T(5),
    };

    static VrrpSettings V2(byte priority = 90, string? pass = "spk1234") => V3(priority) with { Version = VrrpVersion.V2, AuthPass = pass };

    static VrrpEvent.AdvertReceived Advert(byte priority, Ipv4Address from, VrrpSettings settings, int? intervalCs = null) =>
        new(new VrrpAdvertisement
        {
            Version = settings.Version, VirtualRouterId = settings.VirtualRouterId, Priority = priority,
            IntervalCentiseconds = intervalCs ?? (int)(settings.AdvertInterval.TotalMilliseconds / 10),
            Addresses = [Ipv4Address.Parse("10.0.0.100")],
            AuthType = settings.AuthPass is null ? VrrpAuthType.None : VrrpAuthType.SimpleText,
            AuthData = settings.AuthPass is null ? default : VrrpAuthData.FromPassword(settings.AuthPass),
        }, from);

    static VrrpStep Step(VrrpSettings s, VrrpInstanceState state, VrrpEvent e, double at) => VrrpMachine.Step(s, state, e, T(at));

    static VrrpInstanceState Backup(VrrpSettings s, double at = 0) => Step(s, new VrrpInstanceState(), new VrrpEvent.Startup(), at).State;

    static VrrpInstanceState Master(VrrpSettings s)
    {
        var backup = Backup(s);
        return Step(s, backup, new VrrpEvent.Tick(), backup.MasterDownTimer!.Value.TotalSeconds).State;
    }

    // 6.4.1 Initialize

    [Fact]
    public void Startup_goes_to_backup_with_the_master_down_timer_and_cleans_up_stale_addresses()
    {
        var s = V3(priority: 100);
        var step = Step(s, new VrrpInstanceState(), new VrrpEvent.Startup(), 10);
        Assert.Equal(VrrpState.Backup, step.State.State);
        Assert.Equal(T(1), step.State.MasterAdverInterval);
        // Master_Down_Interval = 3 * 1 s + (256 - 100) * 1 s / 256.
        Assert.Equal(T(10) + T(3) + TimeSpan.FromTicks(156 * TimeSpan.TicksPerSecond / 256), step.State.MasterDownTimer);
        Assert.Null(step.State.AdverTimer);
        Assert.Equal([new RemoveAddresses(), new Notify(VrrpState.Backup, 100)], step.Effects);
        Assert.Equal((VrrpState.Initialize, VrrpState.Backup), (step.Transition!.From, step.Transition.To));
    }

    [Fact]
    public void Startup_of_the_address_owner_goes_to_master_at_once()
    {
        var step = Step(V3(priority: 255), new VrrpInstanceState(), new VrrpEvent.Startup(), 0);
        Assert.Equal(VrrpState.Master, step.State.State);
        Assert.Equal(T(1), step.State.AdverTimer);
        Assert.Equal([new AddAddresses(), new SendAdvert(255), new SendGarpBurst(), new Notify(VrrpState.Master, 255)], step.Effects);
    }

    [Fact]
    public void Startup_with_a_failed_tracked_condition_goes_to_fault()
    {
        var state = new VrrpInstanceState { Tracking = new VrrpTracking(0, Fault: true) };
        var step = Step(V3(), state, new VrrpEvent.Startup(), 0);
        Assert.Equal(VrrpState.Fault, step.State.State);
        Assert.Null(step.State.NextDeadline);
        Assert.Contains(new Notify(VrrpState.Fault, 100), step.Effects);
    }

    [Fact]
    public void Initialize_ignores_adverts_ticks_and_shutdown()
    {
        var s = V3();
        var idle = new VrrpInstanceState();
        Assert.Equal([new DropAdvert(VrrpDropReason.NotListening)], Step(s, idle, Advert(100, Lower, s), 0).Effects);
        Assert.Empty(Step(s, idle, new VrrpEvent.Tick(), 0).Effects);
        Assert.Null(Step(s, idle, new VrrpEvent.Shutdown(), 0).Transition);
    }

    // 6.4.2 Backup

    [Fact]
    public void Backup_shutdown_cancels_the_timer_and_goes_to_initialize()
    {
        var step = Step(V3(), Backup(V3()), new VrrpEvent.Shutdown(), 1);
        Assert.Equal(VrrpState.Initialize, step.State.State);
        Assert.Null(step.State.MasterDownTimer);
        Assert.Equal([new Notify(VrrpState.Initialize, 0)], step.Effects);
    }

    [Fact]
    public void Backup_becomes_master_when_the_master_down_timer_fires_not_before()
    {
        var s = V3();
        var backup = Backup(s);
        var due = backup.MasterDownTimer!.Value;
        Assert.Equal(VrrpState.Backup, VrrpMachine.Step(s, backup, new VrrpEvent.Tick(), due - TimeSpan.FromMilliseconds(1)).State.State);
        var step = VrrpMachine.Step(s, backup, new VrrpEvent.Tick(), due);
        Assert.Equal(VrrpState.Master, step.State.State);
        Assert.Equal(due + T(1), step.State.AdverTimer);
        Assert.Equal(due + T(5), step.State.GarpTimer);
        Assert.Equal([new AddAddresses(), new SendAdvert(100), new SendGarpBurst(), new Notify(VrrpState.Master, 100)], step.Effects);
    }

    [Fact]
    public void Backup_priority_0_advert_sets_the_timer_to_the_skew_time_only()
    {
        var s = V3(priority: 90);
        var step = Step(s, Backup(s), Advert(0, Higher, s), 2);
        Assert.Equal(T(2) + TimeSpan.FromTicks(166 * TimeSpan.TicksPerSecond / 256), step.State.MasterDownTimer);
        Assert.Equal(VrrpState.Backup, step.State.State);
    }

    [Fact]
    public void V2_skew_time_is_a_fraction_of_a_second_whatever_the_interval()
    {
        // keepalived v2, priority 90, advert_int 1: SIGKILL takeover after 3 s + 0.648 s (FACTS.md).
        var s = V2(priority: 90) with { AdvertInterval = T(2) };
        Assert.Equal(TimeSpan.FromTicks(166 * TimeSpan.TicksPerSecond / 256), s.SkewTime(90, T(2)));
        Assert.Equal(T(6) + TimeSpan.FromTicks(166 * TimeSpan.TicksPerSecond / 256), s.MasterDownInterval(90, T(2)));
        Assert.Equal(0.648, V2(priority: 90).MasterDownInterval(90, T(1)).TotalSeconds - 3, 3);
    }

    [Fact]
    public void Backup_higher_or_equal_advert_resets_the_timer_and_v3_learns_the_master_interval()
    {
        var s = V3(priority: 100);
        var step = Step(s, Backup(s), Advert(100, Lower, s, intervalCs: 50), 2);
        Assert.Equal(TimeSpan.FromMilliseconds(500), step.State.MasterAdverInterval);
        Assert.Equal(T(2) + s.MasterDownInterval(100, TimeSpan.FromMilliseconds(500)), step.State.MasterDownTimer);
        Assert.Equal(Lower, step.State.MasterAddress);
        Assert.Empty(step.Effects);
    }

    [Fact]
    public void Backup_with_preempt_discards_a_lower_priority_advert_so_its_timer_runs_out()
    {
        var s = V3(priority: 100);
        var backup = Backup(s);
        var step = Step(s, backup, Advert(90, Lower, s), 1);
        Assert.Equal(backup.MasterDownTimer, step.State.MasterDownTimer);
        Assert.Equal([new DropAdvert(VrrpDropReason.Preempting)], step.Effects);
    }

    [Fact]
    public void Backup_without_preempt_follows_a_lower_priority_master()
    {
        var s = V3(priority: 100, preempt: false);
        var step = Step(s, Backup(s), Advert(90, Lower, s), 2);
        Assert.Equal(T(2) + s.MasterDownInterval(100, T(1)), step.State.MasterDownTimer);
        Assert.Empty(step.Effects);
    }

    [Fact]
    public void Preempt_delay_follows_a_lower_priority_master_until_the_delay_has_passed()
    {
        var s = V3(priority: 100, preemptDelay: 10);
        var state = Backup(s, at: 0);
        for (var t = 1; t < 10; t++)
        {
            var step = Step(s, state, Advert(90, Lower, s), t);
            Assert.Empty(step.Effects);
            state = step.State;
        }
        Assert.Equal([new DropAdvert(VrrpDropReason.Preempting)], Step(s, state, Advert(90, Lower, s), 10).Effects);
    }

    // 6.4.3 Master

    [Fact]
    public void Master_adver_timer_sends_an_advert_and_rearms()
    {
        var s = V3();
        var master = Master(s);
        var due = master.AdverTimer!.Value;
        var step = VrrpMachine.Step(s, master, new VrrpEvent.Tick(), due);
        Assert.Equal([new SendAdvert(100)], step.Effects);
        Assert.Equal(due + T(1), step.State.AdverTimer);
    }

    [Fact]
    public void Master_sends_the_second_garp_burst_after_the_delay_then_refreshes()
    {
        var s = V3() with { GarpMasterRefresh = T(60) };
        var master = Master(s);
        var garp = master.GarpTimer!.Value;
        var step = VrrpMachine.Step(s, master with { AdverTimer = garp + T(1) }, new VrrpEvent.Tick(), garp);
        Assert.Equal([new SendGarpBurst()], step.Effects);
        Assert.Equal(garp + T(60), step.State.GarpTimer);
        Assert.Null(VrrpMachine.Step(V3(), master with { AdverTimer = garp + T(1) }, new VrrpEvent.Tick(), garp).State.GarpTimer);
    }

    [Fact]
    public void Master_shutdown_sends_priority_0_and_removes_the_addresses()
    {
        var step = Step(V3(), Master(V3()), new VrrpEvent.Shutdown(), 9);
        Assert.Equal(VrrpState.Initialize, step.State.State);
        Assert.Null(step.State.NextDeadline);
        Assert.Equal([new SendAdvert(0), new RemoveAddresses(), new Notify(VrrpState.Initialize, 0)], step.Effects);
    }

    [Fact]
    public void Master_answers_a_priority_0_advert_with_an_advert_at_once()
    {
        var s = V3();
        var step = Step(s, Master(s), Advert(0, Lower, s), 7.5);
        Assert.Equal([new SendAdvert(100)], step.Effects);
        Assert.Equal(T(8.5), step.State.AdverTimer);
        Assert.Equal(VrrpState.Master, step.State.State);
    }

    [Theory]
    [InlineData(101, "10.0.0.11", true)]   // higher priority wins
    [InlineData(100, "10.0.0.13", true)]   // equal priority, higher address wins
    [InlineData(100, "10.0.0.11", false)]  // equal priority, lower address loses
    [InlineData(99, "10.0.0.13", false)]   // lower priority loses
    [InlineData(100, "10.0.1.1", true)]    // unsigned comparison in network byte order
    public void Master_yields_only_to_a_better_router(byte priority, string from, bool yields)
    {
        var s = V3(priority: 100);
        var step = Step(s, Master(s), Advert(priority, Ipv4Address.Parse(from), s, intervalCs: 200), 8);
        if (yields)
        {
            Assert.Equal(VrrpState.Backup, step.State.State);
            Assert.Null(step.State.AdverTimer);
            Assert.Equal(T(2), step.State.MasterAdverInterval); // v3 learns it here too
            Assert.Equal(T(8) + s.MasterDownInterval(100, T(2)), step.State.MasterDownTimer);
            Assert.Equal([new RemoveAddresses(), new Notify(VrrpState.Backup, 100)], step.Effects);
        }
        else
        {
            Assert.Equal(VrrpState.Master, step.State.State);
            Assert.Equal([new DropAdvert(VrrpDropReason.LowerPriority)], step.Effects);
        }
    }

    [Fact]
    public void A_shut_down_master_s_backup_takes_over_after_the_skew_time_only()
    {
        var s = V3(priority: 90);
        var backup = Step(s, Backup(s), Advert(100, Higher, s), 5).State;
        var afterGoodbye = Step(s, backup, Advert(0, Higher, s), 6).State;
        var due = afterGoodbye.MasterDownTimer!.Value;
        Assert.Equal(s.SkewTime(90, T(1)), due - T(6));
        Assert.Equal(VrrpState.Master, VrrpMachine.Step(s, afterGoodbye, new VrrpEvent.Tick(), due).State.State);
    }

    // Receive rules (RFC 3768 / 5798 section 7.1)

    [Fact]
    public void V2_drops_wrong_password_missing_auth_and_a_different_interval()
    {
        var s = V2();
        var backup = Backup(s);
        Assert.Equal([new DropAdvert(VrrpDropReason.AuthMismatch)], Step(s, backup, Advert(100, Higher, s with { AuthPass = "wrong" }), 1).Effects);
        Assert.Equal([new DropAdvert(VrrpDropReason.AuthMismatch)], Step(s, backup, Advert(100, Higher, s with { AuthPass = null }), 1).Effects);
        Assert.Equal([new DropAdvert(VrrpDropReason.IntervalMismatch)], Step(s, backup, Advert(100, Higher, s, intervalCs: 200), 1).Effects);
        Assert.Empty(Step(s, backup, Advert(100, Higher, s), 1).Effects);
    }

    [Fact]
    public void Version_mismatch_and_the_owner_drop_adverts()
    {
        var s = V3();
        Assert.Equal([new DropAdvert(VrrpDropReason.VersionMismatch)], Step(s, Backup(s), Advert(100, Higher, V2()), 1).Effects);
        var owner = V3(priority: 255);
        var master = Step(owner, new VrrpInstanceState(), new VrrpEvent.Startup(), 0).State;
        Assert.Equal([new DropAdvert(VrrpDropReason.OwnerIgnores)], Step(owner, master, Advert(254, Higher, owner), 1).Effects);
    }

    // Tracking (keepalived)

    [Fact]
    public void Tracking_sums_weights_keepalived_s_way()
    {
        var t = VrrpTracking.From([new(-30, Up: false), new(-10, Up: true), new(5, Up: true), new(7, Up: false)]);
        Assert.Equal(new VrrpTracking(-25, false), t);
        Assert.Equal(75, t.EffectivePriority(100));
        Assert.Equal(1, new VrrpTracking(-300, false).EffectivePriority(100));
        Assert.Equal(254, new VrrpTracking(+30, false).EffectivePriority(250));
        Assert.Equal(255, new VrrpTracking(-30, false).EffectivePriority(255));
        Assert.True(VrrpTracking.From([new(0, Up: false), new(-30, Up: true)]).Fault);
    }

    [Fact]
    public void A_failing_weighted_check_takes_a_100_master_below_a_90_backup()
    {
        // The seed's chk_haproxy: weight -30 on a priority-100 master; the 90 backup preempts.
        var s = V3(priority: 100);
        var master = Master(s);
        var lowered = Step(s, master, new VrrpEvent.TrackingChanged(new VrrpTracking(-30, false)), 20);
        Assert.Equal(VrrpState.Master, lowered.State.State);
        Assert.Equal([new SendAdvert(70)], VrrpMachine.Step(s, lowered.State, new VrrpEvent.Tick(), lowered.State.AdverTimer!.Value).Effects);
        var yielded = Step(s, lowered.State, Advert(90, Lower, s), 21);
        Assert.Equal(VrrpState.Backup, yielded.State.State);
    }

    [Fact]
    public void An_unweighted_failure_faults_a_master_which_says_goodbye_then_recovers_as_backup()
    {
        var s = V3();
        var fault = Step(s, Master(s), new VrrpEvent.TrackingChanged(new VrrpTracking(0, true)), 20);
        Assert.Equal(VrrpState.Fault, fault.State.State);
        Assert.Null(fault.State.NextDeadline);
        Assert.Equal([new SendAdvert(0), new RemoveAddresses(), new Notify(VrrpState.Fault, 100)], fault.Effects);
        Assert.Equal([new DropAdvert(VrrpDropReason.NotListening)], Step(s, fault.State, Advert(50, Lower, s), 21).Effects);

        var back = Step(s, fault.State, new VrrpEvent.TrackingChanged(VrrpTracking.Healthy), 30);
        Assert.Equal(VrrpState.Backup, back.State.State);
        Assert.Equal((VrrpState.Fault, VrrpState.Backup), (back.Transition!.From, back.Transition.To));
        Assert.Equal(T(30) + s.MasterDownInterval(100, T(1)), back.State.MasterDownTimer);
    }

    [Fact]
    public void A_backup_faults_without_sending_and_the_owner_recovers_straight_to_master()
    {
        var s = V3();
        var fault = Step(s, Backup(s), new VrrpEvent.TrackingChanged(new VrrpTracking(0, true)), 1);
        Assert.Equal([new Notify(VrrpState.Fault, 100)], fault.Effects);
        Assert.Null(fault.State.MasterDownTimer);

        var owner = V3(priority: 255);
        var ownerFault = new VrrpInstanceState { State = VrrpState.Fault, Tracking = new VrrpTracking(0, true) };
        Assert.Equal(VrrpState.Master, Step(owner, ownerFault, new VrrpEvent.TrackingChanged(VrrpTracking.Healthy), 1).State.State);
    }

    [Fact]
    public void Next_deadline_is_the_earliest_running_timer()
    {
        var master = Master(V3());
        Assert.Equal(master.AdverTimer, master.NextDeadline);
        Assert.Null(new VrrpInstanceState().NextDeadline);
    }
}
