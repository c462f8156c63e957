namespace Appliance.Configuration;

/// <summary>
/// The whole configuration of one node: <c>/etc/appliance/appliance.toml</c> merged with the
/// drop-ins in <c>conf.d/</c> (see <c>ConfigLoader</c>). Immutable; a reload builds a new one.
/// TOML section and key names are the snake_case of the property names.
/// </summary>
public sealed record ApplianceConfig
{
    /// <summary><c>[node]</c>: who this node is.</summary>
    public NodeSection Node { get; init; } = new();
    /// <summary><c>[cluster]</c>: which cluster it belongs to.</summary>
    public ClusterSection Cluster { get; init; } = new();
    /// <summary><c>[etcd]</c>: where the cluster store is.</summary>
    public EtcdSection Etcd { get; init; } = new();
    /// <summary><c>[agent]</c>: the HA loop's timings.</summary>
    public AgentSection Agent { get; init; } = new();
    /// <summary><c>[postgresql]</c>: the local PostgreSQL.</summary>
    public PostgresqlSection Postgresql { get; init; } = new();
    /// <summary><c>[restapi]</c>: the agent's REST API.</summary>
    public RestApiSection Restapi { get; init; } = new();
    /// <summary><c>[metrics]</c>: Prometheus exposition.</summary>
    public MetricsSection Metrics { get; init; } = new();
    /// <summary><c>[tags]</c>: Patroni's member tags.</summary>
    public TagsSection Tags { get; init; } = new();
    /// <summary><c>[watchdog]</c>: fencing of a primary whose agent hangs.</summary>
    public WatchdogSection Watchdog { get; init; } = new();
    /// <summary><c>[callbacks]</c>: scripts run on PostgreSQL life-cycle events.</summary>
    public CallbacksSection Callbacks { get; init; } = new();
    /// <summary><c>[[vrrp]]</c>: the VRRP instances of a load-balancer node (see <see cref="VrrpInstanceSection"/>).</summary>
    public IReadOnlyList<VrrpInstanceSection> Vrrp { get; init; } = [];
    /// <summary><c>[balancer]</c>: the load-balancer node's own HTTP listener (see <see cref="BalancerSection"/>).</summary>
    public BalancerSection Balancer { get; init; } = new();
    /// <summary><c>[proxy]</c>: the load-balancer node's PostgreSQL proxy (see <see cref="ProxySection"/>).</summary>
    public ProxySection Proxy { get; init; } = new();
    /// <summary><c>[system]</c>: the appliance image's node set-up: host name, network, roles (see <see cref="SystemSection"/>).</summary>
    public SystemSection System { get; init; } = new();
}

/// <summary><c>[node]</c></summary>
public sealed record NodeSection
{
    /// <summary><c>name</c>: the member name, unique in the cluster (Patroni's <c>name</c>). Required.</summary>
    public string Name { get; init; } = "";
    /// <summary><c>address</c>: the address other nodes reach this node at; the default host of the connect addresses.</summary>
    public string Address { get; init; } = "127.0.0.1";
}

/// <summary><c>[cluster]</c></summary>
public sealed record ClusterSection
{
    /// <summary><c>scope</c>: the cluster name (Patroni's <c>scope</c>). Required.</summary>
    public string Scope { get; init; } = "";
    /// <summary><c>namespace</c>: the etcd key prefix (Patroni's <c>namespace</c>), keys live under <c>/namespace/scope/</c>.</summary>
    public string Namespace { get; init; } = "/service";
}

/// <summary><c>[etcd]</c></summary>
public sealed record EtcdSection
{
    /// <summary><c>endpoints</c>: etcd v3 client URLs, <c>http://host:port</c> or <c>https://</c>.</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = ["http://127.0.0.1:2379"];
    /// <summary><c>username</c>: etcd user, when authentication is on.</summary>
    public string? Username { get; init; }
    /// <summary><c>password</c>: etcd password. Secret: masked in every output.</summary>
    public string? Password { get; init; }
    /// <summary><c>ca_file</c>: CA bundle that signs the etcd server certificates.</summary>
    public string? CaFile { get; init; }
    /// <summary><c>cert_file</c>: client certificate for mutual TLS.</summary>
    public string? CertFile { get; init; }
    /// <summary><c>key_file</c>: key of <c>cert_file</c>.</summary>
    public string? KeyFile { get; init; }
}

/// <summary><c>[agent]</c>: Patroni's timings, in seconds unless said otherwise.</summary>
public sealed record AgentSection
{
    /// <summary><c>ttl</c>: lifetime of the leader lease. A primary that cannot renew it demotes before it expires.</summary>
    public int Ttl { get; init; } = 30;
    /// <summary><c>loop_wait</c>: pause between HA cycles (a change in etcd wakes the loop earlier).</summary>
    public int LoopWait { get; init; } = 10;
    /// <summary><c>retry_timeout</c>: how long an etcd or PostgreSQL operation may take before it counts as failed.</summary>
    public int RetryTimeout { get; init; } = 10;
    /// <summary><c>maximum_lag_on_failover</c>: bytes a replica may lag and still be promoted.</summary>
    public long MaximumLagOnFailover { get; init; } = 1_048_576;
    /// <summary><c>primary_start_timeout</c>: how long a crashed primary may take to come back before the lock is released.</summary>
    public int PrimaryStartTimeout { get; init; } = 300;
    /// <summary>
    /// <c>synchronous_mode</c>: commits wait for a synchronous standby and only such a standby may be promoted
    /// automatically. Seeds the cluster's dynamic configuration at bootstrap; change it later with
    /// <c>appliancectl edit-config --set synchronous_mode=true</c>.
    /// </summary>
    public bool SynchronousMode { get; init; }
    /// <summary><c>synchronous_mode_strict</c>: with no synchronous standby left, writes block rather than go on unprotected. Bootstrap seed, like <see cref="SynchronousMode"/>.</summary>
    public bool SynchronousModeStrict { get; init; }
    /// <summary><c>synchronous_node_count</c>: how many standbys confirm each commit. Bootstrap seed, like <see cref="SynchronousMode"/>.</summary>
    public int SynchronousNodeCount { get; init; } = 1;
}

/// <summary><c>[postgresql]</c></summary>
public sealed record PostgresqlSection
{
    /// <summary><c>bin_dir</c>: where initdb, pg_ctl, pg_basebackup and postgres are.</summary>
    public string BinDir { get; init; } = "/usr/lib/postgresql/15/bin";
    /// <summary><c>data_dir</c>: the cluster's data directory. Required.</summary>
    public string DataDir { get; init; } = "";
    /// <summary><c>listen</c>: <c>listen_addresses</c> (comma-separated hosts).</summary>
    public string Listen { get; init; } = "0.0.0.0";
    /// <summary><c>port</c>: the port PostgreSQL listens on.</summary>
    public int Port { get; init; } = 5432;
    /// <summary><c>connect_address</c>: <c>host:port</c> other nodes and clients use; default <c>node.address:port</c>.</summary>
    public string? ConnectAddress { get; init; }
    /// <summary><c>run_as</c>: OS user PostgreSQL runs as when the agent runs as root.</summary>
    public string RunAs { get; init; } = "postgres";
    /// <summary><c>[postgresql.parameters]</c>: postgresql.conf settings the agent owns (written to its managed include file).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
    /// <summary><c>pg_hba</c>: the pg_hba.conf lines, in order. The agent writes the file; the default lets the replication user and the superuser in with scram.</summary>
    public IReadOnlyList<string> PgHba { get; init; } = [];
    /// <summary><c>use_pg_rewind</c>: a diverged former primary rejoins with pg_rewind before falling back to a fresh clone.</summary>
    public bool UsePgRewind { get; init; } = true;
    /// <summary><c>[postgresql.superuser]</c>: the superuser the agent connects as.</summary>
    public Credentials Superuser { get; init; } = new() { Username = "postgres" };
    /// <summary><c>[postgresql.replication]</c>: the user replicas stream and clone as.</summary>
    public Credentials Replication { get; init; } = new() { Username = "replicator" };
}

/// <summary>A user name and its password. The password is a secret: masked in every output.</summary>
public sealed record Credentials
{
    /// <summary><c>username</c></summary>
    public string Username { get; init; } = "";
    /// <summary><c>password</c></summary>
    public string? Password { get; init; }
}

/// <summary><c>[restapi]</c></summary>
public sealed record RestApiSection
{
    /// <summary><c>listen</c>: <c>host:port</c> the REST API (and <c>/metrics</c>) listens on.</summary>
    public string Listen { get; init; } = "0.0.0.0:8008";
    /// <summary><c>connect_address</c>: <c>host:port</c> others reach the API at; default <c>node.address</c> and the listen port.</summary>
    public string? ConnectAddress { get; init; }
    /// <summary><c>username</c>: basic-auth user for the unsafe endpoints, when set.</summary>
    public string? Username { get; init; }
    /// <summary><c>password</c>: basic-auth password. Secret.</summary>
    public string? Password { get; init; }
    /// <summary><c>cert_file</c>: serve HTTPS with this certificate (PEM); needs <c>key_file</c>.</summary>
    public string? CertFile { get; init; }
    /// <summary><c>key_file</c>: the private key of <c>cert_file</c> (PEM).</summary>
    public string? KeyFile { get; init; }
    /// <summary><c>ca_file</c>: CA bundle that client certificates must chain to.</summary>
    public string? CaFile { get; init; }
    /// <summary><c>verify_client</c>: <c>none</c>, <c>optional</c> or <c>required</c> client certificates (with <c>ca_file</c>).</summary>
    public string VerifyClient { get; init; } = "none";
}

/// <summary><c>[balancer]</c>: read by <c>appliance-balancer</c> only.</summary>
public sealed record BalancerSection
{
    /// <summary>
    /// <c>listen</c>: <c>host:port</c> of the balancer's HTTP listener: <c>/metrics</c> (when
    /// <c>metrics.enabled</c>) and <c>/status</c> (the VRRP instances as JSON). Loopback by default:
    /// it is for the local Prometheus agent and operators, and carries no authentication.
    /// </summary>
    public string Listen { get; init; } = "127.0.0.1:8009";
}

/// <summary><c>[metrics]</c></summary>
public sealed record MetricsSection
{
    /// <summary><c>enabled</c>: serve <c>/metrics</c> on the REST API listener (the balancer: on <c>balancer.listen</c>).</summary>
    public bool Enabled { get; init; } = true;
}

/// <summary><c>[tags]</c>: Patroni's member tags, published in the member key.</summary>
public sealed record TagsSection
{
    /// <summary><c>nofailover</c>: never promote this node.</summary>
    public bool Nofailover { get; init; }
    /// <summary><c>failover_priority</c>: among equally advanced candidates the highest wins; 0 means never.</summary>
    public int FailoverPriority { get; init; } = 1;
    /// <summary><c>noloadbalance</c>: keep read-only traffic away (its <c>/replica</c> answers 503).</summary>
    public bool Noloadbalance { get; init; }
    /// <summary><c>clonefrom</c>: other nodes may clone from this one instead of the leader.</summary>
    public bool Clonefrom { get; init; }
    /// <summary><c>nosync</c>: never choose this node as a synchronous standby.</summary>
    public bool Nosync { get; init; }
}

/// <summary><c>[watchdog]</c>: the Linux watchdog that resets a node whose agent hangs while primary.</summary>
public sealed record WatchdogSection
{
    /// <summary><c>mode</c>: <c>off</c>; <c>automatic</c> (use the device when it works); <c>required</c> (never lead without it).</summary>
    public string Mode { get; init; } = "automatic";
    /// <summary><c>device</c>: the watchdog device.</summary>
    public string Device { get; init; } = "/dev/watchdog";
    /// <summary><c>identity</c>: pick the device whose <c>/sys/class/watchdog/*/identity</c> is this (e.g. <c>i6300ESB timer</c>); overrides <c>device</c>.</summary>
    public string? Identity { get; init; }
    /// <summary><c>safety_margin</c>: seconds between the watchdog firing and the leader lease expiring (timeout = ttl - safety_margin).</summary>
    public int SafetyMargin { get; init; } = 5;
}

/// <summary><c>[callbacks]</c>: scripts run as Patroni runs them (<c>script action role scope</c>), without blocking the HA loop.</summary>
public sealed record CallbacksSection
{
    /// <summary><c>on_start</c></summary>
    public string? OnStart { get; init; }
    /// <summary><c>on_stop</c></summary>
    public string? OnStop { get; init; }
    /// <summary><c>on_restart</c></summary>
    public string? OnRestart { get; init; }
    /// <summary><c>on_reload</c></summary>
    public string? OnReload { get; init; }
    /// <summary><c>on_role_change</c></summary>
    public string? OnRoleChange { get; init; }
    /// <summary><c>timeout</c>: seconds a callback may run before it is killed.</summary>
    public int Timeout { get; init; } = 30;
}
