using Appliance.Cli.CommandLine;
using Appliance.Cli.Model;
using Appliance.Cli.Rest;
using Appliance.Cli.Settings;
using Appliance.Cluster;
using Appliance.Etcd;
using Grpc.Core;

namespace Appliance.Cli.Commands;

/// <summary>
/// What every command works with, built once by Program.cs: the parsed arguments, the settings,
/// where to write, how to ask, the REST client and etcd. Reading the cluster is one consistent etcd
/// range read (<see cref="EtcdClusterStore.LoadAsync"/>), as patronictl's <c>get_cluster</c>.
/// </summary>
internal sealed class CtlContext(ParsedArgs args, CtlSettings settings, TextWriter output, Prompter prompter, PatroniApi api, TimeProvider time) : IAsyncDisposable
{
    private static readonly TimeSpan EtcdTimeout = TimeSpan.FromSeconds(10);
    private EtcdClusterStore? _store;
    private EtcdAdmin? _admin;

    public ParsedArgs Args { get; } = args;
    public CtlSettings Settings { get; } = settings;
    public TextWriter Out { get; } = output;
    public Prompter Prompter { get; } = prompter;
    public PatroniApi Api { get; } = api;
    public TimeProvider Time { get; } = time;
    public bool Force => Args.Flag("force");

    private string Endpoints => string.Join(",", Settings.Etcd.Endpoints);

    /// <summary>The cluster as it is in etcd now. Fails (exit 1) naming the endpoints when etcd does not answer.</summary>
    public async Task<(ClusterSnapshot Snapshot, ClusterView View)> LoadAsync(CancellationToken ct)
    {
        _store ??= EtcdClusterStore.Create(Settings.Etcd, Settings.Cluster, "appliancectl", 10, Time);
        var snapshot = await EtcdAsync("read the cluster", t => _store.LoadAsync(t), ct);
        return (snapshot, ClusterView.From(Settings.Scope, snapshot));
    }

    /// <summary>The direct etcd writes (compare-and-set), for when no REST API answers.</summary>
    public EtcdAdmin Admin => _admin ??= EtcdAdmin.Create(Settings.Etcd, Settings.Cluster);

    /// <summary>Runs one etcd call within a deadline, turning its failure into an operator's message.</summary>
    public async Task<T> EtcdAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(EtcdTimeout);
        try
        {
            return await call(cts.Token);
        }
        catch (RpcException e)
        {
            throw CtlException.Failure($"cannot {what} in etcd at {Endpoints}: {e.Status.StatusCode} {e.Status.Detail}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw CtlException.Failure($"cannot {what} in etcd at {Endpoints}: no answer within {EtcdTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>patronictl's <c>timestamp()</c>: local time to five decimals, for the lines that report a result.</summary>
    public string Timestamp() => Time.GetLocalNow().ToString("yyyy-MM-dd HH:mm:ss.fffff", System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
        _admin?.Dispose();
    }
}
