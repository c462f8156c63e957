using Appliance.Balancer.Speaker;
using Appliance.Vrrp;
using Prometheus;

namespace Appliance.Balancer.Http;

/// <summary>
/// The balancer's <c>/metrics</c>, <c>appliance_vrrp_*</c>, labelled by instance. One registry per
/// process (no static state); gauges are refreshed from the instances' snapshots at scrape time.
/// Label values are frozen names: states, <see cref="VrrpError"/>, <see cref="VrrpFilterDrop"/> and
/// <see cref="VrrpDropReason"/> names, and the reason classes of <see cref="ReasonClass"/>.
/// </summary>
public sealed class BalancerMetrics
{
    static readonly VrrpState[] States = [VrrpState.Initialize, VrrpState.Backup, VrrpState.Master, VrrpState.Fault];
    readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    readonly Counter _transitions;
    readonly Counter _sent;
    readonly Counter _received;
    readonly Counter _drops;
    readonly Counter _garps;
    Func<IEnumerable<InstanceStatus>> _instances = () => [];

    /// <summary>The process's one registry, which the proxy's metrics join.</summary>
    internal CollectorRegistry Registry => _registry;

    public BalancerMetrics()
    {
        // process_start_time_seconds and the other standard series: a changed start time is how
        // monitoring/alerts.yml sees a balancer that systemd restarted.
        DotNetStats.Register(_registry);
        var f = Prometheus.Metrics.WithCustomRegistry(_registry);
        var state = f.CreateGauge("appliance_vrrp_state", "1 for the state the instance is in (initialize, backup, master, fault), 0 for the others.", "instance", "state");
        var priority = f.CreateGauge("appliance_vrrp_effective_priority", "The priority the instance advertises and elects with (configured priority moved by tracking).", "instance");
        var configured = f.CreateGauge("appliance_vrrp_priority", "The configured priority.", "instance");
        var last = f.CreateGauge("appliance_vrrp_last_transition_timestamp_seconds", "Epoch seconds of the instance's last state change (0 before the first).", "instance");
        _transitions = f.CreateCounter("appliance_vrrp_transitions_total", "State changes by target state and reason class.", "instance", "to", "reason");
        _sent = f.CreateCounter("appliance_vrrp_adverts_sent_total", "Advertisements sent (one per destination).", "instance");
        _received = f.CreateCounter("appliance_vrrp_adverts_received_total", "Advertisements received for this virtual router (before the state machine's own drops).", "instance");
        _drops = f.CreateCounter("appliance_vrrp_drops_total", "Received datagrams dropped, by reason.", "instance", "reason");
        _garps = f.CreateCounter("appliance_vrrp_gratuitous_arps_sent_total", "Gratuitous ARP frames sent.", "instance");
        _registry.AddBeforeCollectCallback(() =>
        {
            foreach (var s in _instances())
            {
                foreach (var st in States)
                    state.WithLabels(s.Name, st.ToString().ToLowerInvariant()).Set(s.State == st ? 1 : 0);
                priority.WithLabels(s.Name).Set(s.EffectivePriority);
                configured.WithLabels(s.Name).Set(s.Priority);
                last.WithLabels(s.Name).Set(s.LastTransition?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
            }
        });
    }

    /// <summary>Where the scrape-time gauges come from (set once by the composition root).</summary>
    public void Observe(Func<IEnumerable<InstanceStatus>> instances) => _instances = instances;

    public void Transition(string instance, VrrpTransition t) => _transitions.WithLabels(instance, t.To.ToString().ToLowerInvariant(), ReasonClass(t.Reason)).Inc();
    public void AdvertsSent(string instance, int count) => _sent.WithLabels(instance).Inc(count);
    public void AdvertReceived(string instance) => _received.WithLabels(instance).Inc();
    public void Dropped(string instance, string reason) => _drops.WithLabels(instance, reason).Inc();
    public void GarpsSent(string instance, int count) => _garps.WithLabels(instance).Inc(count);

    /// <summary>
    /// A bounded label for the machine's free-text transition reason (which names addresses and
    /// priorities). Matches the reasons <see cref="VrrpMachine"/> writes; anything new is "other".
    /// </summary>
    public static string ReasonClass(string reason) => reason switch
    {
        _ when reason.Contains("tracked condition is down", StringComparison.Ordinal) => "tracking_fault",
        _ when reason.StartsWith("tracked conditions are up", StringComparison.Ordinal) => "tracking_recovered",
        _ when reason.Contains("address owner", StringComparison.Ordinal) => "address_owner",
        _ when reason.StartsWith("startup", StringComparison.Ordinal) => "startup",
        _ when reason.StartsWith("shutdown", StringComparison.Ordinal) => "shutdown",
        _ when reason.StartsWith("Master_Down_Timer", StringComparison.Ordinal) => "master_down",
        _ when reason.Contains("equal priority", StringComparison.Ordinal) => "higher_address",
        _ when reason.StartsWith("advert from", StringComparison.Ordinal) => "higher_priority",
        _ => "other",
    };

    /// <summary>Writes the Prometheus text exposition.</summary>
    public Task ExportAsync(Stream stream, CancellationToken ct) => _registry.CollectAndExportAsTextAsync(stream, ct);
}
