namespace Appliance.Configuration;

/// <summary>
/// One <c>[[vrrp]]</c> table: a VRRP instance (keepalived's <c>vrrp_instance</c>) holding virtual
/// addresses on one interface. Read by <c>appliance-balancer</c>.
/// </summary>
public sealed record VrrpInstanceSection
{
    /// <summary><c>name</c>: the instance name, unique; passed to notify scripts and used as the metrics label. Required.</summary>
    public string Name { get; init; } = "";
    /// <summary><c>interface</c>: the network interface adverts go out of and the addresses are added to. Required.</summary>
    public string Interface { get; init; } = "";
    /// <summary><c>virtual_router_id</c>: the VRID, 1-255, the same on every node of this virtual router and unique per interface. Required.</summary>
    public int VirtualRouterId { get; init; }
    /// <summary><c>priority</c>: 1-254 to take part in the election (highest wins), 255 for the address owner.</summary>
    public int Priority { get; init; } = 100;
    /// <summary><c>version</c>: 2 (RFC 3768, keepalived's default) or 3 (RFC 5798).</summary>
    public int Version { get; init; } = 2;
    /// <summary><c>advert_int</c>: seconds between adverts; v2 whole seconds 1-255, v3 0.01-40.95 in steps of 0.01.</summary>
    public TimeSpan AdvertInt { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary><c>auth_pass</c>: v2 only: the simple text password (keepalived's <c>auth_type PASS</c>), at most 8 bytes. Secret.</summary>
    public string? AuthPass { get; init; }
    /// <summary><c>virtual_ipaddress</c>: the virtual addresses with their prefix length (<c>10.0.0.100/24</c>). At least one.</summary>
    public IReadOnlyList<string> VirtualIpaddress { get; init; } = [];
    /// <summary><c>source_address</c>: the address adverts come from (our primary address in the election); the interface's first IPv4 address when unset.</summary>
    public string? SourceAddress { get; init; }
    /// <summary><c>unicast_peers</c>: when set, adverts go to these addresses instead of the multicast group 224.0.0.18.</summary>
    public IReadOnlyList<string> UnicastPeers { get; init; } = [];
    /// <summary><c>preempt</c>: a backup with a higher priority takes over from a lower-priority master.</summary>
    public bool Preempt { get; init; } = true;
    /// <summary><c>preempt_delay</c>: seconds after start-up, or after first hearing a lower-priority master, before preempting it.</summary>
    public TimeSpan PreemptDelay { get; init; } = TimeSpan.Zero;
    /// <summary><c>garp_master_delay</c>: seconds after becoming master before the second burst of gratuitous ARPs; 0 for none.</summary>
    public int GarpMasterDelay { get; init; } = 5;
    /// <summary><c>garp_master_repeat</c>: gratuitous ARPs per address in each burst.</summary>
    public int GarpMasterRepeat { get; init; } = 5;
    /// <summary><c>garp_master_refresh</c>: seconds between gratuitous ARP refreshes while master; 0 for none.</summary>
    public int GarpMasterRefresh { get; init; }
    /// <summary><c>notify_master</c>: script run on becoming master.</summary>
    public string? NotifyMaster { get; init; }
    /// <summary><c>notify_backup</c>: script run on becoming backup.</summary>
    public string? NotifyBackup { get; init; }
    /// <summary><c>notify_fault</c>: script run on entering the fault state.</summary>
    public string? NotifyFault { get; init; }
    /// <summary><c>notify_stop</c>: script run when the instance stops.</summary>
    public string? NotifyStop { get; init; }
    /// <summary><c>notify</c>: script run on every transition, with keepalived's arguments (<c>INSTANCE name state priority</c>).</summary>
    public string? Notify { get; init; }
    /// <summary><c>notify_timeout</c>: seconds a notify script may run before it is killed.</summary>
    public int NotifyTimeout { get; init; } = 30;
    /// <summary><c>[[vrrp.track_script]]</c>: check scripts that lower the priority or fault the instance.</summary>
    public IReadOnlyList<TrackScriptSection> TrackScript { get; init; } = [];
    /// <summary><c>[[vrrp.track_interface]]</c>: interfaces whose link state lowers the priority or faults the instance.</summary>
    public IReadOnlyList<TrackInterfaceSection> TrackInterface { get; init; } = [];
}

/// <summary>
/// <c>[[vrrp.track_script]]</c>: keepalived's <c>vrrp_script</c>. Up after <c>rise</c> successes in a
/// row, down after <c>fall</c> failures. While down, a negative <c>weight</c> is added to the priority;
/// while up, a positive one; with weight 0 a down script puts the instance in the fault state.
/// </summary>
public sealed record TrackScriptSection
{
    /// <summary><c>name</c>: shown in logs and metrics. Required.</summary>
    public string Name { get; init; } = "";
    /// <summary><c>script</c>: the command line (run without a shell); exit code 0 is success. Required.</summary>
    public string Script { get; init; } = "";
    /// <summary><c>interval</c>: seconds between runs.</summary>
    public int Interval { get; init; } = 1;
    /// <summary><c>timeout</c>: seconds a run may take before it is killed and counts as failed.</summary>
    public int Timeout { get; init; } = 1;
    /// <summary><c>rise</c>: successes in a row that make a down script up.</summary>
    public int Rise { get; init; } = 1;
    /// <summary><c>fall</c>: failures in a row that make an up script down.</summary>
    public int Fall { get; init; } = 1;
    /// <summary><c>weight</c>: -253 to 253; see the type's summary.</summary>
    public int Weight { get; init; }
}

/// <summary><c>[[vrrp.track_interface]]</c>: an interface whose link going down lowers the priority by <c>weight</c> (negative) or, with weight 0, faults the instance.</summary>
public sealed record TrackInterfaceSection
{
    /// <summary><c>name</c>: the interface. Required.</summary>
    public string Name { get; init; } = "";
    /// <summary><c>weight</c>: -253 to 253, added while the link is down when negative, while up when positive; 0 means fault when down.</summary>
    public int Weight { get; init; }
}
