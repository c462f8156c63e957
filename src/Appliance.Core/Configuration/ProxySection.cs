namespace Appliance.Configuration;

/// <summary>
/// <c>[proxy]</c>: the PostgreSQL proxy of <c>appliance-balancer</c> (HAProxy's job). It runs when at
/// least one <c>[[proxy.listener]]</c> is configured. Backends come from the cluster keys in etcd
/// (<c>discovery = "etcd"</c>, with <c>[etcd]</c> and <c>[cluster]</c>) or only from
/// <c>[[proxy.backend]]</c> (<c>"static"</c>); health checks (<c>[proxy.check]</c>) run either way, as
/// the backstop when etcd cannot be read. Timeouts of 0 mean none.
/// </summary>
public sealed record ProxySection
{
    /// <summary><c>discovery</c>: <c>etcd</c> (follow the leader and member keys) or <c>static</c> (the configured backends and their checks only).</summary>
    public string Discovery { get; init; } = "etcd";
    /// <summary>
    /// <c>data_path</c>: how bytes move between client and server, for listeners that do not say:
    /// <c>auto</c> (the path the benchmark found best for the load: see <c>DataPaths</c>), <c>sockmap</c>
    /// (an eBPF program moves them inside the kernel; needs CAP_BPF), <c>splice</c> (zero-copy through a
    /// pipe pair) or <c>copy</c> (user-space loop). A path the kernel does not allow falls back to
    /// <c>copy</c>, said once in the log.
    /// </summary>
    public string DataPath { get; init; } = "auto";
    /// <summary><c>workers</c>: accept loops (SO_REUSEPORT sockets) per listener; 0 = one per core.</summary>
    public int Workers { get; init; }
    /// <summary><c>ssl</c>: a client's SSLRequest or GSSENCRequest is passed to the server (<c>pass</c>: TLS end to end) or answered "no" by the proxy (<c>refuse</c>).</summary>
    public string Ssl { get; init; } = "pass";
    /// <summary><c>queue_timeout</c>: how long a new connection is held while its pool has no usable backend (a switchover) before it is closed.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary><c>max_queue</c>: connections held at once per listener; beyond it new ones are closed at once.</summary>
    public int MaxQueue { get; init; } = 1000;
    /// <summary><c>connect_timeout</c>: how long connecting to a server may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary><c>startup_timeout</c>: how long a client may take to send its first packet (startup, SSL or cancel request).</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary><c>client_timeout</c>: a session whose client sends nothing for this long is closed (HAProxy's <c>timeout client</c>).</summary>
    public TimeSpan ClientTimeout { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary><c>server_timeout</c>: a session whose server sends nothing for this long is closed (HAProxy's <c>timeout server</c>).</summary>
    public TimeSpan ServerTimeout { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary><c>client_fin_timeout</c>: after the client half-closed, how long the server may go on sending.</summary>
    public TimeSpan ClientFinTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary><c>server_fin_timeout</c>: after the server half-closed, how long the client may go on sending.</summary>
    public TimeSpan ServerFinTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary><c>idle_timeout</c>: a session with no bytes either way for this long is closed; 0 = never.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.Zero;
    /// <summary><c>shutdown_sessions</c>: when a server leaves a pool (marked down, or no longer the leader) its sessions through that pool are closed at once (HAProxy's <c>on-marked-down shutdown-sessions</c>).</summary>
    public bool ShutdownSessions { get; init; } = true;
    /// <summary><c>maximum_replica_lag</c>: bytes a replica may be behind the leader and still take read-only clients; unset = no limit.</summary>
    public long? MaximumReplicaLag { get; init; }
    /// <summary><c>track_weight</c>: added to every VRRP instance's priority while the proxy is unhealthy (a listener not accepting, or no primary seen); 0 puts the instances in FAULT instead.</summary>
    public int TrackWeight { get; init; } = -50;
    /// <summary><c>[proxy.check]</c>: the health check every backend gets.</summary>
    public ProxyCheckSection Check { get; init; } = new();
    /// <summary><c>[[proxy.listener]]</c>: where clients connect, one per pool.</summary>
    public IReadOnlyList<ProxyListenerSection> Listener { get; init; } = [];
    /// <summary><c>[[proxy.backend]]</c>: servers known in advance: the whole list with <c>discovery = "static"</c>; with etcd, weights and limits by member name.</summary>
    public IReadOnlyList<ProxyBackendSection> Backend { get; init; } = [];
}

/// <summary>
/// <c>[proxy.check]</c>: HAProxy's health checks, with its single rise/fall counter. <c>http</c> asks the
/// node's REST API (ours or stock Patroni's) <c>OPTIONS /primary</c>, then <c>/replica?lag=</c>;
/// <c>pgsql</c> sends a startup message and expects an authentication request (<c>option pgsql-check</c>);
/// <c>pgsql-login</c> logs in and asks <c>pg_is_in_recovery()</c>; <c>tcp</c> only connects.
/// </summary>
public sealed record ProxyCheckSection
{
    /// <summary><c>type</c>: <c>http</c>, <c>pgsql</c>, <c>pgsql-login</c> or <c>tcp</c>.</summary>
    public string Type { get; init; } = "http";
    /// <summary><c>inter</c>: seconds between checks of a backend.</summary>
    public TimeSpan Inter { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary><c>fast_inter</c>: seconds between checks while a pool waits for a backend (a failover in progress).</summary>
    public TimeSpan FastInter { get; init; } = TimeSpan.FromMilliseconds(100);
    /// <summary><c>timeout</c>: seconds one check may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary><c>rise</c>: successes in a row that bring a down backend up.</summary>
    public int Rise { get; init; } = 2;
    /// <summary><c>fall</c>: failures in a row that take an up backend down.</summary>
    public int Fall { get; init; } = 3;
    /// <summary><c>user</c>: the user the <c>pgsql</c> checks name in their startup message.</summary>
    public string User { get; init; } = "postgres";
    /// <summary><c>password</c>: the password <c>pgsql-login</c> logs in with. Secret.</summary>
    public string? Password { get; init; }
    /// <summary><c>database</c>: the database the <c>pgsql</c> checks connect to.</summary>
    public string Database { get; init; } = "postgres";
}

/// <summary><c>[[proxy.listener]]</c>: one address clients connect to, and the pool behind it.</summary>
public sealed record ProxyListenerSection
{
    /// <summary><c>name</c>: the metrics label and log name. Required.</summary>
    public string Name { get; init; } = "";
    /// <summary><c>bind</c>: <c>IP:port</c> to listen on; may be a VIP this node does not hold yet (IP_FREEBIND). Required.</summary>
    public string Bind { get; init; } = "";
    /// <summary><c>role</c>: <c>primary</c> (read-write: the leader only) or <c>replica</c> (read-only: healthy replicas). Required.</summary>
    public string Role { get; init; } = "primary";
    /// <summary><c>balance</c>: how a replica pool spreads clients: <c>roundrobin</c>, <c>leastconn</c> or <c>source</c> (client address hash); weights apply.</summary>
    public string Balance { get; init; } = "roundrobin";
    /// <summary><c>fallback_to_primary</c>: a replica pool with no healthy replica sends clients to the primary.</summary>
    public bool FallbackToPrimary { get; init; } = true;
    /// <summary><c>maxconn</c>: sessions at once through this listener; more are queued (up to <c>proxy.max_queue</c>).</summary>
    public int Maxconn { get; init; } = 1000;
    /// <summary><c>data_path</c>: this listener's data path (as <c>proxy.data_path</c>); <c>proxy.data_path</c> when unset.</summary>
    public string? DataPath { get; init; }
}

/// <summary><c>[[proxy.backend]]</c>: a PostgreSQL server, named as its member key names it when discovery is etcd.</summary>
public sealed record ProxyBackendSection
{
    /// <summary><c>name</c>: the member name. Required.</summary>
    public string Name { get; init; } = "";
    /// <summary><c>address</c>: PostgreSQL's <c>host:port</c>; with etcd discovery the member key's <c>conn_url</c> wins. Required with static discovery.</summary>
    public string? Address { get; init; }
    /// <summary><c>api</c>: the REST API's <c>http(s)://host:port</c> the http check asks; with etcd discovery the member key's <c>api_url</c> wins.</summary>
    public string? Api { get; init; }
    /// <summary><c>weight</c>: 0-256; a backend's share of a replica pool is its weight over the sum; 0 takes no new clients.</summary>
    public int Weight { get; init; } = 1;
    /// <summary><c>maxconn</c>: sessions at once to this server; 0 = no limit.</summary>
    public int Maxconn { get; init; }
}
