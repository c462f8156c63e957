using System.Net;
using System.Text;
using System.Text.Json;
using Appliance.Lab;
using Appliance.Lab.Balancer;
using Appliance.TestKit;
using Npgsql;

namespace Appliance.Proxy.Tests.Routing;

/// <summary>
/// The published <c>appliance-balancer</c> with etcd discovery in front of a real three-agent cluster:
/// a primary listener and a replica listener on 127.0.0.1, and its <c>/proxy</c> JSON. Disposing stops it
/// (by PID) and the cluster.
/// </summary>
public sealed class BalancerInFrontOfAgents : IAsyncDisposable
{
    static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public LocalCluster Cluster { get; }
    public ChildProcess Balancer { get; }
    public int PrimaryPort { get; }
    public int ReplicaPort { get; }
    public int StatusPort { get; }

    BalancerInFrontOfAgents(LocalCluster cluster, ChildProcess balancer, int primary, int replica, int status)
        => (Cluster, Balancer, PrimaryPort, ReplicaPort, StatusPort) = (cluster, balancer, primary, replica, status);

    public static async Task<BalancerInFrontOfAgents> StartAsync(string name, string balance = "roundrobin")
    {
        var cluster = await ClusterFactory.StartHealthyAsync(ClusterFactory.Options(name));
        try
        {
            int[] ports = [FreePorts.Next(), FreePorts.Next(), FreePorts.Next()];
            var config = Path.Combine(cluster.Options.Root, "balancer.toml");
            await File.WriteAllTextAsync(config, $"""
                [cluster]
                scope = "{cluster.Options.Scope}"
                namespace = "{cluster.Options.Namespace}"
                [etcd]
                endpoints = ["{cluster.Etcd.Endpoint}"]
                [balancer]
                listen = "127.0.0.1:{ports[2]}"
                [proxy]
                queue_timeout = 60
                workers = 2
                [proxy.check]
                inter = 0.5
                [[proxy.listener]]
                name = "primary"
                bind = "127.0.0.1:{ports[0]}"
                role = "primary"
                [[proxy.listener]]
                name = "replicas"
                bind = "127.0.0.1:{ports[1]}"
                role = "replica"
                balance = "{balance}"
                fallback_to_primary = false
                """);
            var balancer = ChildProcess.Start($"{name}-balancer", BalancerProcess.Binary(), ["run", "--config", config], Path.Combine(cluster.Options.Root, "balancer.log"));
            return new BalancerInFrontOfAgents(cluster, balancer, ports[0], ports[1], ports[2]);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A connection string to a listener; a long timeout, since the proxy may hold a connection during a switchover.</summary>
    public string Through(int port) =>
        $"Host=127.0.0.1;Port={port};Username=postgres;Password={Cluster.Options.SuperuserPassword};Database=postgres;Timeout=90;Command Timeout=30;Pooling=false";

    /// <summary>Which server a new connection through <paramref name="port"/> reaches: its port, and whether it is in recovery.</summary>
    public async Task<(int Port, bool InRecovery)> WhereAsync(int port)
    {
        await using var c = new NpgsqlConnection(Through(port));
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("select inet_server_port(), pg_is_in_recovery()", c);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt32(0), r.GetBoolean(1));
    }

    /// <summary>The member listening on a PostgreSQL port.</summary>
    public LabMember MemberAt(int pgPort) => Cluster.Members.Single(m => m.PgPort == pgPort);

    /// <summary>The balancer's <c>/proxy</c> JSON.</summary>
    public async Task<JsonDocument> ProxyStatusAsync() => JsonDocument.Parse(await Http.GetStringAsync($"http://127.0.0.1:{StatusPort}/proxy"));

    /// <summary>The balancer's <c>/metrics</c> text.</summary>
    public Task<string> MetricsAsync() => Http.GetStringAsync($"http://127.0.0.1:{StatusPort}/metrics");

    /// <summary>POST to a member's REST API; the status code.</summary>
    public async Task<HttpStatusCode> PostAsync(LabMember m, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var resp = await Http.PostAsync($"{m.ApiUrl}{path}", content);
        return resp.StatusCode;
    }

    public string Log => Balancer.LogTail(60);

    public async ValueTask DisposeAsync()
    {
        await Balancer.StopAsync(TimeSpan.FromSeconds(10));
        await Balancer.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
