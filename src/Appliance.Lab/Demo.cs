using System.Text.Json;

namespace Appliance.Lab;

/// <summary>
/// The main job, first version: a 3-node cluster on loopback, shown and described, running until
/// Ctrl-C, then removed.
/// </summary>
public static class Demo
{
    public static async Task<int> RunAsync(string repoRoot, TextWriter output, CancellationToken stop)
    {
        var root = Path.Combine(Path.GetTempPath(), $"appliance-demo-{Environment.ProcessId}");
        var agent = AgentCommand.Locate(repoRoot, preferPublished: true);
        await output.WriteLineAsync($"Appliance demo: 3 PostgreSQL 15 nodes, each run by appliance-agent ({agent.File}), one etcd, all on 127.0.0.1");
        await output.WriteLineAsync($"  working folder: {root}");
        var options = new LabOptions { Root = root, Agent = agent, Scope = "demo" };
        var descriptionPath = Path.Combine(repoRoot, ".demo", "cluster.json");
        await using var cluster = await LocalCluster.StartAsync(options, stop);
        try
        {
            await output.WriteLineAsync($"  etcd {cluster.Etcd.Endpoint} is up; agents started, waiting for a leader and two streaming replicas:");
            await ClusterProgress.WaitHealthyAsync(cluster, output, TimeSpan.FromMinutes(5), stop);
            Directory.CreateDirectory(Path.GetDirectoryName(descriptionPath)!);
            await File.WriteAllBytesAsync(descriptionPath, Describe(cluster), stop);
            await PrintAsync(cluster, output, descriptionPath, stop);
            await output.WriteLineAsync("\nThe cluster runs until Ctrl-C.");
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await output.WriteLineAsync("\nStopping the demo: agents, PostgreSQL, etcd; removing its files.");
        }
        finally
        {
            File.Delete(descriptionPath);
        }
        return 0;
    }

    static async Task PrintAsync(LocalCluster c, TextWriter o, string descriptionPath, CancellationToken ct)
    {
        var members = await ClusterProgress.ReadAsync(c, ct);
        await o.WriteLineAsync($"\n+ Cluster: {c.Options.Scope} (etcd {c.Etcd.Endpoint}, keys under {c.Options.Namespace}/{c.Options.Scope}/)");
        await o.WriteLineAsync($"| {"Member",-6} | {"Host",-15} | {"Role",-7} | {"State",-8} | {"TL",2} | REST API");
        foreach (var m in members)
        {
            var lm = c[m.Name];
            var role = m.Role == "master" ? "Leader" : "Replica";
            await o.WriteLineAsync($"| {m.Name,-6} | 127.0.0.1:{lm.PgPort,-5} | {role,-7} | {m.State,-8} | {m.Timeline,2} | {lm.ApiUrl}/patroni");
        }
        var primary = c.Members.First(m => members.First(p => p.Name == m.Name).Role == "master");
        var hosts = string.Join(",", c.Members.Select(m => $"127.0.0.1:{m.PgPort}"));
        await o.WriteLineAsync($"""

            Connect (the password is {c.Options.SuperuserPassword}):
              psql "postgresql://postgres@127.0.0.1:{primary.PgPort}/postgres"                 # the primary now
              psql "postgresql://postgres@{hosts}/postgres?target_session_attrs=read-write"   # whoever is primary
            Watch it:
              curl -s {primary.ApiUrl}/cluster        # members, roles, lag
              curl -s {primary.ApiUrl}/metrics        # Prometheus
              patronictl -c {c.WritePatronictlConfig()} list                 # the real patronictl
            Try a failover: kill -9 {primary.Agent?.Pid} {primary.PostmasterPid}   (the agent and the postmaster of {primary.Name})
            Machine-readable description: {descriptionPath}
            """);
    }

    /// <summary>The running demo as JSON, for scripts.</summary>
    public static byte[] Describe(LocalCluster c)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("etcd");
            w.WriteStartArray("endpoints");
            w.WriteStringValue(c.Etcd.Endpoint);
            w.WriteEndArray();
            if (c.Etcd.Pid is int ep) w.WriteNumber("pid", ep);
            w.WriteEndObject();
            w.WriteString("namespace", c.Options.Namespace);
            w.WriteString("scope", c.Options.Scope);
            w.WriteString("root", c.Options.Root);
            w.WriteStartArray("members");
            foreach (var m in c.Members)
            {
                w.WriteStartObject();
                w.WriteString("name", m.Name);
                w.WriteString("host", "127.0.0.1");
                w.WriteNumber("port", m.PgPort);
                w.WriteString("rest_url", m.ApiUrl);
                w.WriteString("data_dir", m.DataDir);
                w.WriteString("config", m.ConfigPath);
                w.WriteString("agent_log", m.AgentLog);
                if (m.Agent is { HasExited: false } a) w.WriteNumber("agent_pid", a.Pid);
                if (m.PostmasterPid is int pp) w.WriteNumber("postmaster_pid", pp);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}
