namespace Appliance.Configuration;

/// <summary>
/// Which binary loads the configuration. All roles read one model and validate every section; the
/// role only decides which keys are required (a load balancer has no PostgreSQL data directory).
/// </summary>
public enum ConfigRole
{
    /// <summary><c>appliance-agent</c>: needs <c>node.name</c>, <c>cluster.scope</c>, <c>postgresql.data_dir</c>.</summary>
    Agent,
    /// <summary><c>appliance-balancer</c>: needs at least one <c>[[vrrp]]</c> instance or <c>[[proxy.listener]]</c>.</summary>
    Balancer,
    /// <summary>
    /// The image's boot-time set-up (<c>appliance-agent setup-node</c>): needs <c>node.name</c> and <c>system.roles</c>,
    /// and every key the roles it names need (checked as <see cref="Agent"/> and <see cref="Balancer"/>).
    /// </summary>
    Node,
}
