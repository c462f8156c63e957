namespace Appliance.Configuration;

/// <summary>
/// Every key of the configuration file: its name, type, range, format and doc, bound to the
/// <see cref="ApplianceConfig"/> records. The one table loading, checking and printing share.
/// </summary>
internal static class ConfigSchema
{
    // Immutable tables, built once. Declared leaves first: static fields initialise in text order.

    private static readonly OptionalStringKind OptionalString = new();
    private static readonly OptionalStringKind Secret = new(secret: true);
    private static readonly OptionalStringKind OptionalHostPort = new(ConfigChecks.HostPort);
    private static readonly BooleanKind Boolean = new();
    private static readonly Int32Kind AtLeast0 = new(0);
    private static readonly Int32Kind AtLeast1 = new(1);

    private static readonly TableSpec<NodeSection> Node = new("who this node is",
        Value<NodeSection, string>("name", "the member name, unique in the cluster; required", new StringKind(ConfigChecks.Name), s => s.Name, (s, v) => s with { Name = v }),
        Value<NodeSection, string>("address", "the address other nodes reach this node at; the default host of the connect addresses", new StringKind(ConfigChecks.NotEmpty), s => s.Address, (s, v) => s with { Address = v }));

    private static readonly TableSpec<ClusterSection> Cluster = new("which cluster this node belongs to",
        Value<ClusterSection, string>("scope", "the cluster name; keys live under /namespace/scope/; required", new StringKind(ConfigChecks.Name), s => s.Scope, (s, v) => s with { Scope = v }),
        Value<ClusterSection, string>("namespace", "the etcd key prefix", new StringKind(ConfigChecks.NotEmpty), s => s.Namespace, (s, v) => s with { Namespace = v }));

    private static readonly TableSpec<EtcdSection> Etcd = new("where the cluster store is",
        Value<EtcdSection, IReadOnlyList<string>>("endpoints", "etcd v3 client URLs, http://host:port or https://host:port", new StringListKind(1, ConfigChecks.EndpointUrl), s => s.Endpoints, (s, v) => s with { Endpoints = v }),
        Value<EtcdSection, string?>("username", "etcd user, when authentication is on", OptionalString, s => s.Username, (s, v) => s with { Username = v }),
        Value<EtcdSection, string?>("password", "etcd password (secret)", Secret, s => s.Password, (s, v) => s with { Password = v }),
        Value<EtcdSection, string?>("ca_file", "CA bundle that signs the etcd server certificates", OptionalString, s => s.CaFile, (s, v) => s with { CaFile = v }),
        Value<EtcdSection, string?>("cert_file", "client certificate for mutual TLS; needs key_file", OptionalString, s => s.CertFile, (s, v) => s with { CertFile = v }),
        Value<EtcdSection, string?>("key_file", "key of cert_file", OptionalString, s => s.KeyFile, (s, v) => s with { KeyFile = v }));

    private static readonly TableSpec<AgentSection> Agent = new("the HA loop's timings, in seconds; loop_wait + 2 * retry_timeout <= ttl",
        Value<AgentSection, int>("ttl", "lifetime of the leader lease", new Int32Kind(5), s => s.Ttl, (s, v) => s with { Ttl = v }),
        Value<AgentSection, int>("loop_wait", "pause between HA cycles", AtLeast1, s => s.LoopWait, (s, v) => s with { LoopWait = v }),
        Value<AgentSection, int>("retry_timeout", "how long an etcd or PostgreSQL operation may take before it counts as failed", AtLeast1, s => s.RetryTimeout, (s, v) => s with { RetryTimeout = v }),
        Value<AgentSection, long>("maximum_lag_on_failover", "bytes a replica may lag and still be promoted", new Int64Kind(0), s => s.MaximumLagOnFailover, (s, v) => s with { MaximumLagOnFailover = v }),
        Value<AgentSection, int>("primary_start_timeout", "how long a crashed primary may take to come back before the lock is released", AtLeast0, s => s.PrimaryStartTimeout, (s, v) => s with { PrimaryStartTimeout = v }),
        Value<AgentSection, bool>("synchronous_mode", "commits wait for a synchronous standby, and only one may be promoted automatically (bootstrap seed of the dynamic configuration)", Boolean, s => s.SynchronousMode, (s, v) => s with { SynchronousMode = v }),
        Value<AgentSection, bool>("synchronous_mode_strict", "with no synchronous standby left, writes block instead of going on unprotected (bootstrap seed)", Boolean, s => s.SynchronousModeStrict, (s, v) => s with { SynchronousModeStrict = v }),
        Value<AgentSection, int>("synchronous_node_count", "how many standbys confirm each commit (bootstrap seed)", AtLeast1, s => s.SynchronousNodeCount, (s, v) => s with { SynchronousNodeCount = v }));

    private static TableSpec<Credentials> CredentialsSpec(string doc) => new(doc,
        Value<Credentials, string>("username", "user name", new StringKind(ConfigChecks.NotEmpty), s => s.Username, (s, v) => s with { Username = v }),
        Value<Credentials, string?>("password", "password (secret)", Secret, s => s.Password, (s, v) => s with { Password = v }));

    private static readonly TableSpec<PostgresqlSection> Postgresql = new("the local PostgreSQL",
        Value<PostgresqlSection, string>("bin_dir", "where initdb, pg_ctl, pg_basebackup and postgres are", new StringKind(ConfigChecks.NotEmpty), s => s.BinDir, (s, v) => s with { BinDir = v }),
        Value<PostgresqlSection, string>("data_dir", "the data directory; required", new StringKind(ConfigChecks.NotEmpty), s => s.DataDir, (s, v) => s with { DataDir = v }),
        Value<PostgresqlSection, string>("listen", "listen_addresses (comma-separated hosts)", new StringKind(ConfigChecks.NotEmpty), s => s.Listen, (s, v) => s with { Listen = v }),
        Value<PostgresqlSection, int>("port", "the port PostgreSQL listens on", new Int32Kind(1, 65535), s => s.Port, (s, v) => s with { Port = v }),
        Value<PostgresqlSection, string?>("connect_address", "host:port other nodes and clients use; default node.address:port", OptionalHostPort, s => s.ConnectAddress, (s, v) => s with { ConnectAddress = v }),
        Value<PostgresqlSection, string>("run_as", "OS user PostgreSQL runs as when the agent runs as root", new StringKind(ConfigChecks.NotEmpty), s => s.RunAs, (s, v) => s with { RunAs = v }),
        Value<PostgresqlSection, IReadOnlyList<string>>("pg_hba", "the pg_hba.conf lines, in order", new StringListKind(), s => s.PgHba, (s, v) => s with { PgHba = v }),
        Value<PostgresqlSection, bool>("use_pg_rewind", "a diverged former primary rejoins with pg_rewind before falling back to a fresh clone", Boolean, s => s.UsePgRewind, (s, v) => s with { UsePgRewind = v }),
        new SettingsMember<PostgresqlSection>("parameters", "postgresql.conf settings the agent owns (any key; strings, numbers, booleans)", s => s.Parameters, (s, v) => s with { Parameters = v }),
        new TableMember<PostgresqlSection, Credentials>("superuser", CredentialsSpec("the superuser the agent connects as"), s => s.Superuser, (s, v) => s with { Superuser = v }),
        new TableMember<PostgresqlSection, Credentials>("replication", CredentialsSpec("the user replicas stream and clone as"), s => s.Replication, (s, v) => s with { Replication = v }));

    private static readonly TableSpec<RestApiSection> RestApi = new("the agent's REST API",
        Value<RestApiSection, string>("listen", "host:port the REST API (and /metrics) listens on", new StringKind(ConfigChecks.HostPort), s => s.Listen, (s, v) => s with { Listen = v }),
        Value<RestApiSection, string?>("connect_address", "host:port others reach the API at; default node.address and the listen port", OptionalHostPort, s => s.ConnectAddress, (s, v) => s with { ConnectAddress = v }),
        Value<RestApiSection, string?>("username", "basic-auth user for the unsafe endpoints", OptionalString, s => s.Username, (s, v) => s with { Username = v }),
        Value<RestApiSection, string?>("password", "basic-auth password (secret)", Secret, s => s.Password, (s, v) => s with { Password = v }),
        Value<RestApiSection, string?>("cert_file", "serve HTTPS with this certificate (PEM); needs key_file", OptionalString, s => s.CertFile, (s, v) => s with { CertFile = v }),
        Value<RestApiSection, string?>("key_file", "private key of cert_file (PEM)", OptionalString, s => s.KeyFile, (s, v) => s with { KeyFile = v }),
        Value<RestApiSection, string?>("ca_file", "CA bundle that client certificates must chain to", OptionalString, s => s.CaFile, (s, v) => s with { CaFile = v }),
        Value<RestApiSection, string>("verify_client", "client certificates: none, optional or required (with ca_file)", new StringKind(ConfigChecks.OneOf("none", "optional", "required")), s => s.VerifyClient, (s, v) => s with { VerifyClient = v }));

    private static readonly TableSpec<MetricsSection> Metrics = new("Prometheus exposition",
        Value<MetricsSection, bool>("enabled", "serve /metrics on the REST API listener (the balancer: on balancer.listen)", Boolean, s => s.Enabled, (s, v) => s with { Enabled = v }));

    private static readonly TableSpec<BalancerSection> Balancer = new("the load-balancer node's HTTP listener (appliance-balancer only)",
        Value<BalancerSection, string>("listen", "host:port serving /metrics and /status (JSON); no authentication, so loopback by default", new StringKind(ConfigChecks.HostPort), s => s.Listen, (s, v) => s with { Listen = v }));

    private static readonly TableSpec<TagsSection> Tags = new("Patroni's member tags",
        Value<TagsSection, bool>("nofailover", "never promote this node", Boolean, s => s.Nofailover, (s, v) => s with { Nofailover = v }),
        Value<TagsSection, int>("failover_priority", "among equally advanced candidates the highest wins; 0 means never", AtLeast0, s => s.FailoverPriority, (s, v) => s with { FailoverPriority = v }),
        Value<TagsSection, bool>("noloadbalance", "keep read-only traffic away", Boolean, s => s.Noloadbalance, (s, v) => s with { Noloadbalance = v }),
        Value<TagsSection, bool>("clonefrom", "other nodes may clone from this one", Boolean, s => s.Clonefrom, (s, v) => s with { Clonefrom = v }),
        Value<TagsSection, bool>("nosync", "never choose this node as a synchronous standby", Boolean, s => s.Nosync, (s, v) => s with { Nosync = v }));

    private static readonly TableSpec<WatchdogSection> Watchdog = new("fencing: the watchdog resets a node whose agent hangs while primary",
        Value<WatchdogSection, string>("mode", "off, automatic (use the device when it works) or required (never lead without it)", new StringKind(ConfigChecks.OneOf("off", "automatic", "required")), s => s.Mode, (s, v) => s with { Mode = v }),
        Value<WatchdogSection, string>("device", "the watchdog device", new StringKind(ConfigChecks.NotEmpty), s => s.Device, (s, v) => s with { Device = v }),
        Value<WatchdogSection, string?>("identity", "pick the device whose /sys/class/watchdog/*/identity is this; overrides device", OptionalString, s => s.Identity, (s, v) => s with { Identity = v }),
        Value<WatchdogSection, int>("safety_margin", "seconds between the watchdog firing and the leader lease expiring (timeout = ttl - safety_margin)", AtLeast0, s => s.SafetyMargin, (s, v) => s with { SafetyMargin = v }));

    private static readonly TableSpec<CallbacksSection> Callbacks = new("scripts run on PostgreSQL events with Patroni's arguments (action, role, scope)",
        Value<CallbacksSection, string?>("on_start", "after PostgreSQL starts", OptionalString, s => s.OnStart, (s, v) => s with { OnStart = v }),
        Value<CallbacksSection, string?>("on_stop", "after PostgreSQL stops", OptionalString, s => s.OnStop, (s, v) => s with { OnStop = v }),
        Value<CallbacksSection, string?>("on_restart", "after PostgreSQL restarts", OptionalString, s => s.OnRestart, (s, v) => s with { OnRestart = v }),
        Value<CallbacksSection, string?>("on_reload", "after a configuration reload", OptionalString, s => s.OnReload, (s, v) => s with { OnReload = v }),
        Value<CallbacksSection, string?>("on_role_change", "after a promotion or demotion", OptionalString, s => s.OnRoleChange, (s, v) => s with { OnRoleChange = v }),
        Value<CallbacksSection, int>("timeout", "seconds a callback may run before it is killed", AtLeast1, s => s.Timeout, (s, v) => s with { Timeout = v }));

    private static readonly TableSpec<TrackScriptSection> TrackScript = new("a check script: its weight is added to the priority (negative while down, positive while up); weight 0 faults the instance while down",
        Value<TrackScriptSection, string>("name", "shown in logs and metrics; required", new StringKind(ConfigChecks.Label), s => s.Name, (s, v) => s with { Name = v }),
        Value<TrackScriptSection, string>("script", "the command line, run without a shell; exit code 0 is success; required", new StringKind(ConfigChecks.NotEmpty), s => s.Script, (s, v) => s with { Script = v }),
        Value<TrackScriptSection, int>("interval", "seconds between runs", new Int32Kind(1, 3600), s => s.Interval, (s, v) => s with { Interval = v }),
        Value<TrackScriptSection, int>("timeout", "seconds a run may take before it is killed and counts as failed", new Int32Kind(1, 3600), s => s.Timeout, (s, v) => s with { Timeout = v }),
        Value<TrackScriptSection, int>("rise", "successes in a row that make it up", new Int32Kind(1, 100), s => s.Rise, (s, v) => s with { Rise = v }),
        Value<TrackScriptSection, int>("fall", "failures in a row that make it down", new Int32Kind(1, 100), s => s.Fall, (s, v) => s with { Fall = v }),
        Value<TrackScriptSection, int>("weight", "-253 to 253; 0 means fault while down", new Int32Kind(-253, 253), s => s.Weight, (s, v) => s with { Weight = v }));

    private static readonly TableSpec<TrackInterfaceSection> TrackInterface = new("an interface whose link state is tracked: weight as for track_script; 0 means fault while down",
        Value<TrackInterfaceSection, string>("name", "the interface; required", new StringKind(ConfigChecks.InterfaceName), s => s.Name, (s, v) => s with { Name = v }),
        Value<TrackInterfaceSection, int>("weight", "-253 to 253; 0 means fault while down", new Int32Kind(-253, 253), s => s.Weight, (s, v) => s with { Weight = v }));

    private static readonly OptionalStringKind OptionalNotEmpty = new(ConfigChecks.NotEmpty);

    private static readonly TableSpec<ProxyCheckSection> ProxyCheck = new("the health check every backend gets (HAProxy's, with its rise/fall counter)",
        Value<ProxyCheckSection, string>("type", "http (the REST API's OPTIONS /primary, then /replica?lag=), pgsql (startup message, expect an authentication request), pgsql-login (log in, ask pg_is_in_recovery()) or tcp", new StringKind(ConfigChecks.OneOf("http", "pgsql", "pgsql-login", "tcp")), s => s.Type, (s, v) => s with { Type = v }),
        Value<ProxyCheckSection, TimeSpan>("inter", "seconds between checks of a backend", new SecondsKind(1, 360_000), s => s.Inter, (s, v) => s with { Inter = v }),
        Value<ProxyCheckSection, TimeSpan>("fast_inter", "seconds between checks while a pool waits for a backend (a failover in progress)", new SecondsKind(1, 360_000), s => s.FastInter, (s, v) => s with { FastInter = v }),
        Value<ProxyCheckSection, TimeSpan>("timeout", "seconds one check may take", new SecondsKind(1, 6000), s => s.Timeout, (s, v) => s with { Timeout = v }),
        Value<ProxyCheckSection, int>("rise", "successes in a row that bring a down backend up", new Int32Kind(1, 100), s => s.Rise, (s, v) => s with { Rise = v }),
        Value<ProxyCheckSection, int>("fall", "failures in a row that take an up backend down", new Int32Kind(1, 100), s => s.Fall, (s, v) => s with { Fall = v }),
        Value<ProxyCheckSection, string>("user", "the user the pgsql checks name", new StringKind(ConfigChecks.NotEmpty), s => s.User, (s, v) => s with { User = v }),
        Value<ProxyCheckSection, string?>("password", "the password pgsql-login logs in with (secret)", Secret, s => s.Password, (s, v) => s with { Password = v }),
        Value<ProxyCheckSection, string>("database", "the database the pgsql checks connect to", new StringKind(ConfigChecks.NotEmpty), s => s.Database, (s, v) => s with { Database = v }));

    private static readonly string[] DataPathNames = ["auto", "sockmap", "splice", "copy"];

    private static readonly TableSpec<ProxyListenerSection> ProxyListener = new("an address clients connect to, and the pool behind it",
        Value<ProxyListenerSection, string>("name", "the metrics label and log name, unique; required", new StringKind(ConfigChecks.Label), s => s.Name, (s, v) => s with { Name = v }),
        Value<ProxyListenerSection, string>("bind", "IP:port to listen on; may be a VIP this node does not hold yet; required", new StringKind(ConfigChecks.HostPort), s => s.Bind, (s, v) => s with { Bind = v }),
        Value<ProxyListenerSection, string>("role", "primary (read-write: the leader only) or replica (read-only: healthy replicas); required", new StringKind(ConfigChecks.OneOf("primary", "replica")), s => s.Role, (s, v) => s with { Role = v }),
        Value<ProxyListenerSection, string>("balance", "how a replica pool spreads clients: roundrobin, leastconn or source (client address hash); weights apply", new StringKind(ConfigChecks.OneOf("roundrobin", "leastconn", "source")), s => s.Balance, (s, v) => s with { Balance = v }),
        Value<ProxyListenerSection, bool>("fallback_to_primary", "a replica pool with no healthy replica sends clients to the primary", Boolean, s => s.FallbackToPrimary, (s, v) => s with { FallbackToPrimary = v }),
        Value<ProxyListenerSection, int>("maxconn", "sessions at once through this listener; more wait in the queue", new Int32Kind(1, 1_000_000), s => s.Maxconn, (s, v) => s with { Maxconn = v }),
        Value<ProxyListenerSection, string?>("data_path", "this listener's data path (auto, sockmap, splice or copy); proxy.data_path when unset", new OptionalStringKind(ConfigChecks.OneOf(DataPathNames)), s => s.DataPath, (s, v) => s with { DataPath = v }));

    private static readonly TableSpec<ProxyBackendSection> ProxyBackend = new("a PostgreSQL server, named as its member key names it",
        Value<ProxyBackendSection, string>("name", "the member name, unique; required", new StringKind(ConfigChecks.Name), s => s.Name, (s, v) => s with { Name = v }),
        Value<ProxyBackendSection, string?>("address", "PostgreSQL's host:port (with etcd discovery the member key's conn_url wins); required with static discovery", OptionalHostPort, s => s.Address, (s, v) => s with { Address = v }),
        Value<ProxyBackendSection, string?>("api", "the REST API's http(s)://host:port for the http check (with etcd discovery the member key's api_url wins)", new OptionalStringKind(ConfigChecks.EndpointUrl), s => s.Api, (s, v) => s with { Api = v }),
        Value<ProxyBackendSection, int>("weight", "0-256: the backend's share of a replica pool is its weight over the sum; 0 takes no new clients", new Int32Kind(0, 256), s => s.Weight, (s, v) => s with { Weight = v }),
        Value<ProxyBackendSection, int>("maxconn", "sessions at once to this server; 0 = no limit", AtLeast0, s => s.Maxconn, (s, v) => s with { Maxconn = v }));

    private static readonly SecondsKind Timeout = new(0, 8_640_000);

    private static readonly TableSpec<ProxySection> Proxy = new("the PostgreSQL proxy (appliance-balancer; runs when a [[proxy.listener]] is configured); timeouts in seconds, 0 = none",
        Value<ProxySection, string>("discovery", "etcd (follow the leader and member keys of [cluster] in [etcd]) or static (the [[proxy.backend]] list and its checks only)", new StringKind(ConfigChecks.OneOf("etcd", "static")), s => s.Discovery, (s, v) => s with { Discovery = v }),
        Value<ProxySection, string>("data_path", "how bytes move, for listeners that do not say: auto (by measured policy), sockmap (eBPF, in the kernel), splice (zero-copy through a pipe pair) or copy (user-space loop)", new StringKind(ConfigChecks.OneOf(DataPathNames)), s => s.DataPath, (s, v) => s with { DataPath = v }),
        Value<ProxySection, int>("workers", "accept loops (SO_REUSEPORT sockets) per listener; 0 = one per core", new Int32Kind(0, 1024), s => s.Workers, (s, v) => s with { Workers = v }),
        Value<ProxySection, string>("ssl", "a client's SSLRequest or GSSENCRequest: pass (to the server: TLS end to end) or refuse (the proxy answers no)", new StringKind(ConfigChecks.OneOf("pass", "refuse")), s => s.Ssl, (s, v) => s with { Ssl = v }),
        Value<ProxySection, TimeSpan>("queue_timeout", "how long a new connection is held while its pool has no usable server (a switchover) before it is closed", Timeout, s => s.QueueTimeout, (s, v) => s with { QueueTimeout = v }),
        Value<ProxySection, int>("max_queue", "connections held at once per listener; beyond it new ones are closed", AtLeast0, s => s.MaxQueue, (s, v) => s with { MaxQueue = v }),
        Value<ProxySection, TimeSpan>("connect_timeout", "how long connecting to a server may take", new SecondsKind(1, 8_640_000), s => s.ConnectTimeout, (s, v) => s with { ConnectTimeout = v }),
        Value<ProxySection, TimeSpan>("startup_timeout", "how long a client may take to send its first packet", new SecondsKind(1, 8_640_000), s => s.StartupTimeout, (s, v) => s with { StartupTimeout = v }),
        Value<ProxySection, TimeSpan>("client_timeout", "close a session whose client sends nothing for this long", Timeout, s => s.ClientTimeout, (s, v) => s with { ClientTimeout = v }),
        Value<ProxySection, TimeSpan>("server_timeout", "close a session whose server sends nothing for this long", Timeout, s => s.ServerTimeout, (s, v) => s with { ServerTimeout = v }),
        Value<ProxySection, TimeSpan>("client_fin_timeout", "after the client half-closed, how long the server may go on sending", Timeout, s => s.ClientFinTimeout, (s, v) => s with { ClientFinTimeout = v }),
        Value<ProxySection, TimeSpan>("server_fin_timeout", "after the server half-closed, how long the client may go on sending", Timeout, s => s.ServerFinTimeout, (s, v) => s with { ServerFinTimeout = v }),
        Value<ProxySection, TimeSpan>("idle_timeout", "close a session with no bytes either way for this long", Timeout, s => s.IdleTimeout, (s, v) => s with { IdleTimeout = v }),
        Value<ProxySection, bool>("shutdown_sessions", "close a server's sessions at once when it leaves a pool (HAProxy's on-marked-down shutdown-sessions)", Boolean, s => s.ShutdownSessions, (s, v) => s with { ShutdownSessions = v }),
        Value<ProxySection, long?>("maximum_replica_lag", "bytes a replica may be behind and still take read-only clients; unset = no limit", new OptionalInt64Kind(0), s => s.MaximumReplicaLag, (s, v) => s with { MaximumReplicaLag = v }),
        Value<ProxySection, int>("track_weight", "added to every VRRP instance's priority while the proxy is unhealthy (a listener not accepting, or no primary seen); 0 = FAULT instead", new Int32Kind(-253, 0), s => s.TrackWeight, (s, v) => s with { TrackWeight = v }),
        new TableMember<ProxySection, ProxyCheckSection>("check", ProxyCheck, s => s.Check, (s, v) => s with { Check = v }),
        new TableArrayMember<ProxySection, ProxyListenerSection>("listener", ProxyListener, () => new(), ["name", "bind", "role"], s => s.Listener, (s, v) => s with { Listener = v }),
        new TableArrayMember<ProxySection, ProxyBackendSection>("backend", ProxyBackend, () => new(), ["name"], s => s.Backend, (s, v) => s with { Backend = v }));

    private static readonly TableSpec<VrrpInstanceSection> VrrpInstance = new("a VRRP instance (keepalived's vrrp_instance): virtual addresses held by one node of a virtual router",
        Value<VrrpInstanceSection, string>("name", "the instance name, unique; notify argument and metrics label; required", new StringKind(ConfigChecks.Label), s => s.Name, (s, v) => s with { Name = v }),
        Value<VrrpInstanceSection, string>("interface", "the interface adverts go out of and the addresses are added to; required", new StringKind(ConfigChecks.InterfaceName), s => s.Interface, (s, v) => s with { Interface = v }),
        Value<VrrpInstanceSection, int>("virtual_router_id", "the VRID, 1-255, the same on every node of the virtual router; required", new Int32Kind(1, 255), s => s.VirtualRouterId, (s, v) => s with { VirtualRouterId = v }),
        Value<VrrpInstanceSection, int>("priority", "1-254 (highest wins the election), 255 for the address owner", new Int32Kind(1, 255), s => s.Priority, (s, v) => s with { Priority = v }),
        Value<VrrpInstanceSection, int>("version", "2 (RFC 3768) or 3 (RFC 5798)", new Int32Kind(2, 3), s => s.Version, (s, v) => s with { Version = v }),
        Value<VrrpInstanceSection, TimeSpan>("advert_int", "seconds between adverts: v2 whole seconds 1-255, v3 0.01-40.95", new SecondsKind(1, 25500), s => s.AdvertInt, (s, v) => s with { AdvertInt = v }),
        Value<VrrpInstanceSection, string?>("auth_pass", "v2 only: the simple text password (keepalived's auth_type PASS), at most 8 bytes (secret)", new OptionalStringKind(ConfigChecks.NotEmpty, secret: true), s => s.AuthPass, (s, v) => s with { AuthPass = v }),
        Value<VrrpInstanceSection, IReadOnlyList<string>>("virtual_ipaddress", "the virtual addresses with their prefix length, such as \"10.0.0.100/24\"; required", new StringListKind(1, ConfigChecks.Ipv4WithPrefix), s => s.VirtualIpaddress, (s, v) => s with { VirtualIpaddress = v }),
        Value<VrrpInstanceSection, string?>("source_address", "the address adverts come from; the interface's first IPv4 address when unset", new OptionalStringKind(ConfigChecks.Ipv4), s => s.SourceAddress, (s, v) => s with { SourceAddress = v }),
        Value<VrrpInstanceSection, IReadOnlyList<string>>("unicast_peers", "send adverts to these addresses instead of the multicast group 224.0.0.18", new StringListKind(0, ConfigChecks.Ipv4), s => s.UnicastPeers, (s, v) => s with { UnicastPeers = v }),
        Value<VrrpInstanceSection, bool>("preempt", "a higher-priority backup takes over from a lower-priority master", Boolean, s => s.Preempt, (s, v) => s with { Preempt = v }),
        Value<VrrpInstanceSection, TimeSpan>("preempt_delay", "seconds after start-up, or after first hearing a lower-priority master, before preempting it", new SecondsKind(0, 100_000), s => s.PreemptDelay, (s, v) => s with { PreemptDelay = v }),
        Value<VrrpInstanceSection, int>("garp_master_delay", "seconds after becoming master before the second gratuitous ARP burst; 0 for none", new Int32Kind(0, 3600), s => s.GarpMasterDelay, (s, v) => s with { GarpMasterDelay = v }),
        Value<VrrpInstanceSection, int>("garp_master_repeat", "gratuitous ARPs per address in each burst", new Int32Kind(1, 100), s => s.GarpMasterRepeat, (s, v) => s with { GarpMasterRepeat = v }),
        Value<VrrpInstanceSection, int>("garp_master_refresh", "seconds between gratuitous ARP refreshes while master; 0 for none", new Int32Kind(0, 86400), s => s.GarpMasterRefresh, (s, v) => s with { GarpMasterRefresh = v }),
        Value<VrrpInstanceSection, string?>("notify_master", "script run on becoming master", OptionalNotEmpty, s => s.NotifyMaster, (s, v) => s with { NotifyMaster = v }),
        Value<VrrpInstanceSection, string?>("notify_backup", "script run on becoming backup", OptionalNotEmpty, s => s.NotifyBackup, (s, v) => s with { NotifyBackup = v }),
        Value<VrrpInstanceSection, string?>("notify_fault", "script run on entering the fault state", OptionalNotEmpty, s => s.NotifyFault, (s, v) => s with { NotifyFault = v }),
        Value<VrrpInstanceSection, string?>("notify_stop", "script run when the instance stops", OptionalNotEmpty, s => s.NotifyStop, (s, v) => s with { NotifyStop = v }),
        Value<VrrpInstanceSection, string?>("notify", "script run on every transition with keepalived's arguments: INSTANCE name state priority", OptionalNotEmpty, s => s.Notify, (s, v) => s with { Notify = v }),
        Value<VrrpInstanceSection, int>("notify_timeout", "seconds a notify script may run before it is killed", new Int32Kind(1, 3600), s => s.NotifyTimeout, (s, v) => s with { NotifyTimeout = v }),
        new TableArrayMember<VrrpInstanceSection, TrackScriptSection>("track_script", TrackScript, () => new(), ["name", "script"], s => s.TrackScript, (s, v) => s with { TrackScript = v }),
        new TableArrayMember<VrrpInstanceSection, TrackInterfaceSection>("track_interface", TrackInterface, () => new(), ["name"], s => s.TrackInterface, (s, v) => s with { TrackInterface = v }));

    private static readonly TableSpec<SystemInterfaceSection> SystemInterface = new("a network interface, found by its MAC address, renamed and given static addresses",
        Value<SystemInterfaceSection, string>("name", "the name it gets, what [[vrrp]].interface names, such as \"lan0\"; required", new StringKind(ConfigChecks.InterfaceName), s => s.Name, (s, v) => s with { Name = v }),
        Value<SystemInterfaceSection, string>("mac", "the MAC address that picks the interface, such as \"52:54:00:12:34:56\"; required", new StringKind(ConfigChecks.Mac), s => s.Mac, (s, v) => s with { Mac = v }),
        Value<SystemInterfaceSection, IReadOnlyList<string>>("addresses", "static IPv4 addresses with their prefix length; none means DHCP", new StringListKind(0, ConfigChecks.Ipv4WithPrefix), s => s.Addresses, (s, v) => s with { Addresses = v }),
        Value<SystemInterfaceSection, string?>("gateway", "the default route's next hop", new OptionalStringKind(ConfigChecks.Ipv4), s => s.Gateway, (s, v) => s with { Gateway = v }));

    private static readonly TableSpec<SystemSection> System = new("the appliance image's node set-up at boot (ignored by the daemons)",
        Value<SystemSection, IReadOnlyList<string>>("roles", "which roles run: \"database\" (etcd member, PostgreSQL, appliance-agent), \"balancer\" (appliance-balancer), or both; required on the image", new StringListKind(0, ConfigChecks.OneOf("database", "balancer")), s => s.Roles, (s, v) => s with { Roles = v }),
        Value<SystemSection, string?>("hostname", "the host name; node.name when unset", new OptionalStringKind(ConfigChecks.Hostname), s => s.Hostname, (s, v) => s with { Hostname = v }),
        Value<SystemSection, IReadOnlyList<string>>("dns", "name servers (IPv4 addresses)", new StringListKind(0, ConfigChecks.Ipv4), s => s.Dns, (s, v) => s with { Dns = v }),
        Value<SystemSection, IReadOnlyList<string>>("ntp", "time servers for systemd-timesyncd; Debian's pool when empty", new StringListKind(0, ConfigChecks.NotEmpty), s => s.Ntp, (s, v) => s with { Ntp = v }),
        Value<SystemSection, IReadOnlyList<string>>("etcd_initial_cluster", "every etcd member as name=http://address:2380; required with the database role", new StringListKind(0, ConfigChecks.EtcdPeer), s => s.EtcdInitialCluster, (s, v) => s with { EtcdInitialCluster = v }),
        new TableArrayMember<SystemSection, SystemInterfaceSection>("interface", SystemInterface, () => new(), ["name", "mac"], s => s.Interface, (s, v) => s with { Interface = v }));

    /// <summary>The whole file: one table per section.</summary>
    public static readonly TableSpec<ApplianceConfig> Root = new("",
        new TableMember<ApplianceConfig, NodeSection>("node", Node, c => c.Node, (c, v) => c with { Node = v }),
        new TableMember<ApplianceConfig, ClusterSection>("cluster", Cluster, c => c.Cluster, (c, v) => c with { Cluster = v }),
        new TableMember<ApplianceConfig, EtcdSection>("etcd", Etcd, c => c.Etcd, (c, v) => c with { Etcd = v }),
        new TableMember<ApplianceConfig, AgentSection>("agent", Agent, c => c.Agent, (c, v) => c with { Agent = v }),
        new TableMember<ApplianceConfig, PostgresqlSection>("postgresql", Postgresql, c => c.Postgresql, (c, v) => c with { Postgresql = v }),
        new TableMember<ApplianceConfig, RestApiSection>("restapi", RestApi, c => c.Restapi, (c, v) => c with { Restapi = v }),
        new TableMember<ApplianceConfig, WatchdogSection>("watchdog", Watchdog, c => c.Watchdog, (c, v) => c with { Watchdog = v }),
        new TableMember<ApplianceConfig, CallbacksSection>("callbacks", Callbacks, c => c.Callbacks, (c, v) => c with { Callbacks = v }),
        new TableMember<ApplianceConfig, MetricsSection>("metrics", Metrics, c => c.Metrics, (c, v) => c with { Metrics = v }),
        new TableMember<ApplianceConfig, TagsSection>("tags", Tags, c => c.Tags, (c, v) => c with { Tags = v }),
        new TableMember<ApplianceConfig, BalancerSection>("balancer", Balancer, c => c.Balancer, (c, v) => c with { Balancer = v }),
        new TableMember<ApplianceConfig, ProxySection>("proxy", Proxy, c => c.Proxy, (c, v) => c with { Proxy = v }),
        new TableMember<ApplianceConfig, SystemSection>("system", System, c => c.System, (c, v) => c with { System = v }),
        new TableArrayMember<ApplianceConfig, VrrpInstanceSection>("vrrp", VrrpInstance, () => new(), ["name", "interface", "virtual_router_id", "virtual_ipaddress"], c => c.Vrrp, (c, v) => c with { Vrrp = v }));

    /// <summary>Keys that have no usable default for <paramref name="role"/>: absent from every file, they are an error.</summary>
    public static IReadOnlyList<string> RequiredKeys(ConfigRole role) => role switch
    {
        ConfigRole.Agent => ["node.name", "cluster.scope", "postgresql.data_dir"],
        ConfigRole.Node => ["node.name", "system.roles"],
        _ => [],
    };

    private static ValueMember<T, TValue> Value<T, TValue>(string name, string doc, ValueKind<TValue> kind, Func<T, TValue> get, Func<T, TValue, T> set) =>
        new(name, doc, kind, get, set);
}
