using Appliance.Configuration;

namespace Appliance.Cli.Settings;

/// <summary>What appliancectl needs from the configuration: where etcd is, which cluster, and the REST API's credentials.</summary>
internal sealed record CtlSettings(EtcdSection Etcd, ClusterSection Cluster, RestApiSection Restapi)
{
    public string Scope => Cluster.Scope;
}
