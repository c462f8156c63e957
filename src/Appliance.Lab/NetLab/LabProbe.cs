using System.Net.Http;
using System.Text.Json;
using Appliance.Lab.Netns;
using Npgsql;

namespace Appliance.Lab.NetLab;

/// <summary>
/// Reads a running lab from the host through its loopback forwards (<see cref="LabForwards"/>), so
/// the harness that runs the lab and a later <c>lab status</c> (from <c>.lab/lab.json</c>) see it the
/// same way, whichever stack runs: Patroni's REST API on the database nodes, the VIP on the
/// balancers' interfaces, and a query through each listener on the VIP.
/// </summary>
public sealed class LabProbe : IDisposable
{
    readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(3) };
    readonly IReadOnlyDictionary<string, int> _ports;
    readonly IReadOnlyDictionary<string, string> _namespaces;
    readonly string _password;

    /// <param name="ports">The forwards' loopback ports by key ("db1.api", "vip.primary"...).</param>
    /// <param name="namespaces">The namespace of each node by name.</param>
    /// <param name="superuserPassword">The password of the "postgres" user.</param>
    public LabProbe(IReadOnlyDictionary<string, int> ports, IReadOnlyDictionary<string, string> namespaces, string superuserPassword)
    {
        _ports = ports;
        _namespaces = namespaces;
        _password = superuserPassword;
    }

    /// <summary>A connection string through the forward <paramref name="key"/> ("vip.primary", "db2.pg").</summary>
    public string ConnectionString(string key, int connectTimeout = 3) =>
        $"Host=127.0.0.1;Port={_ports[key]};Username=postgres;Password={_password};Database=postgres;Timeout={connectTimeout};Command Timeout=10;Pooling=false";

    /// <summary>A database member's REST API base URL, through its forward.</summary>
    public string ApiUrl(string node) => $"http://127.0.0.1:{_ports[$"{node}.api"]}";

    public async Task<LabHealth> ReadAsync(CancellationToken ct = default)
    {
        var members = Task.WhenAll(LabLayout.Databases.Select(d => MemberAsync(d.Name, ct)));
        var holders = Task.WhenAll(LabLayout.Balancers.Select(async b => await HoldsVipAsync(b.Name) ? b.Name : null));
        var primary = RouteAsync("vip.primary", ct);
        var replica = RouteAsync("vip.replica", ct);
        return new(await members, (await holders).OfType<string>().ToList(), await primary, await replica);
    }

    /// <summary>A member's <c>/patroni</c>, summarised.</summary>
    public async Task<MemberProgress> MemberAsync(string node, CancellationToken ct = default)
    {
        try
        {
            using var doc = JsonDocument.Parse(await _http.GetStringAsync($"{ApiUrl(node)}/patroni", ct));
            return MemberProgress.From(node, doc);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return MemberProgress.From(node, null);
        }
    }

    /// <summary>GET <paramref name="path"/> on a node's forward <paramref name="key"/>; null when it does not answer.</summary>
    public async Task<string?> GetAsync(string key, string path, CancellationToken ct = default)
    {
        try { return await _http.GetStringAsync($"http://127.0.0.1:{_ports[key]}{path}", ct); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return null; }
    }

    /// <summary>
    /// True when the VIP is configured on the balancer node's interface and that interface has a carrier:
    /// a crashed node's namespace keeps its addresses, but with its cable pulled nobody can reach them.
    /// </summary>
    public async Task<bool> HoldsVipAsync(string node)
    {
        var addresses = await Command.RunAsync("ip", ["-n", _namespaces[node], "-4", "-o", "addr", "show", "dev", NodeSpec.Interface]);
        if (!addresses.Ok || !addresses.Output.Contains($" {LabLayout.Vip}/", StringComparison.Ordinal)) return false;
        var link = await Command.RunAsync("ip", ["-n", _namespaces[node], "-o", "link", "show", "dev", NodeSpec.Interface]);
        return link.Ok && link.Output.Contains("LOWER_UP", StringComparison.Ordinal);
    }

    /// <summary>Where a new connection through the forward <paramref name="key"/> lands; null when nothing answers.</summary>
    public async Task<Route?> RouteAsync(string key, CancellationToken ct = default)
    {
        try
        {
            await using var c = new NpgsqlConnection(ConnectionString(key));
            await c.OpenAsync(ct);
            await using var cmd = new NpgsqlCommand("select host(inet_server_addr()), not pg_is_in_recovery()", c);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct)) return null;
            var address = r.GetString(0);
            var node = LabLayout.Databases.FirstOrDefault(d => d.Address.ToString() == address)?.Name ?? address;
            return new Route(node, r.GetBoolean(1));
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException
            or System.Net.Sockets.SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
