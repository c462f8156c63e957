using System.Text.Json;
using System.Text.Json.Nodes;

namespace Appliance.Lab.NetLab;

/// <summary>
/// <c>.lab/lab.json</c> under the repository root: what a running lab is, for people and scripts
/// (namespaces, addresses, ports, the VIP, etcd endpoints, the scope, data folders, PIDs, which stack
/// runs) and for <c>lab status</c> and <c>lab down</c> in another shell. The harness rewrites it while
/// the lab runs (PIDs change after faults) and deletes it when the lab is gone. It holds the lab's
/// superuser password, so it is readable by its owner only.
/// </summary>
public sealed class LabDescription
{
    readonly JsonObject _json;

    LabDescription(JsonObject json) => _json = json;

    /// <summary>The file's path in the checkout at <paramref name="repoRoot"/>.</summary>
    public static string PathIn(string repoRoot) => Path.Combine(repoRoot, ".lab", "lab.json");

    public string Stack => (string?)_json["stack"] ?? "?";
    public string Profile => (string?)_json["profile"] ?? "?";
    /// <summary>"starting" while <c>lab up</c> waits, then "up".</summary>
    public string State => (string?)_json["state"] ?? "?";
    /// <summary>The process that owns the lab: SIGTERM to it takes the lab down.</summary>
    public int HarnessPid => (int?)_json["harness_pid"] ?? 0;
    public string Prefix => (string?)_json["prefix"] ?? "";
    public string SuperuserPassword => (string?)_json["superuser"]?["password"] ?? "";
    public IReadOnlyDictionary<string, int> HostPorts => _json["host_ports"]!.AsObject().ToDictionary(p => p.Key, p => (int)p.Value!);
    public IReadOnlyDictionary<string, string> Namespaces => _json["nodes"]!.AsArray().ToDictionary(n => (string)n!["name"]!, n => (string)n!["namespace"]!);

    public static LabDescription Read(string path)
    {
        try
        {
            return new LabDescription(JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new JsonException("empty"));
        }
        catch (FileNotFoundException)
        {
            throw new FileNotFoundException($"no lab is running here ({path} does not exist): start one with `npx --yes rust-just lab up`");
        }
        catch (DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"no lab is running here ({path} does not exist): start one with `npx --yes rust-just lab up`");
        }
    }

    /// <summary>Writes the description of <paramref name="lab"/> atomically (a reader never sees half a file).</summary>
    public static void Write(string path, NetLab lab, string state)
    {
        var ports = lab.Forwards.Ports;
        var json = new JsonObject
        {
            ["stack"] = lab.Stack.Name,
            ["profile"] = lab.Profile.Name,
            ["state"] = state,
            ["harness_pid"] = Environment.ProcessId,
            ["prefix"] = lab.Topology.Name.Prefix,
            ["work_dir"] = lab.Topology.WorkDir,
            ["scope"] = lab.Scope,
            ["namespace"] = NetLab.KeyNamespace,
            ["subnet"] = LabLayout.Subnet,
            ["vip"] = LabLayout.Vip.ToString(),
            ["ports"] = new JsonObject
            {
                ["postgresql"] = LabLayout.PostgresPort, ["rest_api"] = LabLayout.RestApiPort, ["etcd"] = LabLayout.EtcdClientPort,
                ["primary"] = LabLayout.PrimaryPort, ["replicas"] = LabLayout.ReplicaPort, ["balancer_status"] = LabLayout.BalancerStatusPort,
            },
            ["etcd_endpoints"] = new JsonArray([.. LabLayout.EtcdEndpoints.Select(e => JsonValue.Create(e))]),
            ["superuser"] = new JsonObject { ["username"] = "postgres", ["password"] = lab.SuperuserPassword },
            ["host_ports"] = new JsonObject(ports.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value)))),
            ["connect"] = new JsonObject
            {
                ["primary"] = $"postgresql://postgres@127.0.0.1:{ports["vip.primary"]}/postgres",
                ["replicas"] = $"postgresql://postgres@127.0.0.1:{ports["vip.replica"]}/postgres",
            },
            ["nodes"] = new JsonArray([.. lab.Nodes.Select(Node)]),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>
    /// Keeps <paramref name="path"/> current (every 2 s) until <paramref name="stop"/>, then deletes it:
    /// what a harness does while it owns a running lab.
    /// </summary>
    public static async Task HostAsync(string path, NetLab lab, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Write(path, lab, "up");
                await Task.Delay(TimeSpan.FromSeconds(2), stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            File.Delete(path);
        }
    }

    static JsonObject Node(LabNode n)
    {
        var o = new JsonObject
        {
            ["name"] = n.Name,
            ["namespace"] = n.Namespace,
            ["address"] = n.Address,
            ["mac"] = n.Spec.MacText,
            ["dir"] = n.Dir,
            ["services"] = new JsonArray([.. n.Services.Select(s => new JsonObject
            {
                ["name"] = s.Name, ["pid"] = s.Pid, ["running"] = s.IsRunning, ["log"] = s.LogPath,
            })]),
        };
        if (LabLayout.IsDatabase(n.Name))
        {
            o["data_dir"] = n.DataDir;
            o["postmaster_pid"] = n.PostmasterPid;
        }
        return o;
    }
}
