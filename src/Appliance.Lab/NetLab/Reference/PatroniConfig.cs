using System.Globalization;

namespace Appliance.Lab.NetLab.Reference;

/// <summary>
/// A database node's patroni.yml for Patroni 3.0.2 (Debian's package): the seed's
/// (../shared/compat/patroni-3.0.2/rendered_patroni_db1.yml) with the lab's scope, passwords,
/// addresses and profile timings.
/// </summary>
public static class PatroniConfig
{
    public const string BinDir = "/usr/lib/postgresql/15/bin";

    /// <summary>The patroni.yml of <paramref name="node"/>, with <paramref name="timings"/> (the profile's, or clamped to what Patroni accepts).</summary>
    public static string Render(NetLab lab, LabNode node, LabProfile timings)
    {
        var p = timings;
        // Patroni's etcd3 hosts are host:port, without the scheme the endpoints carry.
        var hosts = string.Join(",", LabLayout.EtcdEndpoints.Select(e => new Uri(e).Authority));
        // Each PostgreSQL needs its own socket folder: the three share one filesystem, all on port 5432.
        // No rewind user (the seed has one): the lab has two passwords, and pg_rewind then runs as the superuser.
        // shared_buffers is the appliance stack's 32MB (the seed's 128MB), so both stacks weigh the same.
        return string.Create(CultureInfo.InvariantCulture, $"""
            # written by the Appliance lab for {node.Name} (reference stack, {lab.Profile.Name} profile)
            scope: {lab.Scope}
            namespace: {NetLab.KeyNamespace}/
            name: {node.Name}

            log:
              level: INFO
              format: '%(asctime)s %(levelname)s: %(message)s'

            restapi:
              listen: {node.Address}:{LabLayout.RestApiPort}
              connect_address: {node.Address}:{LabLayout.RestApiPort}

            etcd3:
              hosts: {hosts}

            bootstrap:
              dcs:
                ttl: {p.Ttl}
                loop_wait: {p.LoopWait}
                retry_timeout: {p.RetryTimeout}
                maximum_lag_on_failover: {p.MaximumLagOnFailover}
                synchronous_mode: {(p.SynchronousMode ? "true" : "false")}
                postgresql:
                  use_pg_rewind: true
                  use_slots: true
                  parameters:
                    wal_level: replica
                    hot_standby: 'on'
                    max_connections: 100
                    max_wal_senders: 10
                    max_replication_slots: 10
                    wal_keep_size: 256MB
                    wal_log_hints: 'on'
                    shared_buffers: 32MB
              initdb:
                - encoding: UTF8
                - data-checksums
              pg_hba:
                - local all all trust
                - host replication replicator {LabLayout.Subnet} scram-sha-256
                - host all all {LabLayout.Subnet} scram-sha-256

            postgresql:
              listen: {node.Address}:{LabLayout.PostgresPort}
              connect_address: {node.Address}:{LabLayout.PostgresPort}
              data_dir: {node.DataDir}
              bin_dir: {BinDir}
              pgpass: {Path.Combine(node.Dir, "pgpass")}
              authentication:
                replication:
                  username: replicator
                  password: '{lab.ReplicationPassword}'
                superuser:
                  username: postgres
                  password: '{lab.SuperuserPassword}'
              parameters:
                unix_socket_directories: '{node.Dir}'
                logging_collector: 'on'
                log_directory: log

            # No watchdog device exists in a network namespace.
            watchdog:
              mode: 'off'

            tags:
              nofailover: false
              noloadbalance: false
              clonefrom: false
              nosync: false

            """);
    }
}
