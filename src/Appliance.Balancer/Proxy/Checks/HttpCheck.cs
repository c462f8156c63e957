using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>
/// The check of a stock Patroni haproxy.cfg (<c>option httpchk OPTIONS /primary</c>), against the node's REST
/// API (ours or Patroni's): <c>OPTIONS /primary</c> answering 200 means primary; else
/// <c>OPTIONS /replica</c> (with <c>?lag=</c> when <c>maximum_replica_lag</c> is set) answering 200 means
/// replica; neither means the node is no server to send clients to (<see cref="CheckLayer.WrongRole"/>).
/// </summary>
/// <remarks>
/// HttpClient over one <see cref="SocketsHttpHandler"/>, not a hand-written HTTP/1.1 request: it is AOT-safe,
/// already in the binary, keeps the connection to our agent alive between checks (Patroni's HTTP/1.0 server
/// closes it, which the handler handles), and does https with the system's trust store. Certificates are
/// verified (names and chains) as for any client: a self-signed API needs its CA in the system store; a check
/// that trusted any certificate would let whoever answers on that address steer the writes.
/// </remarks>
public sealed class HttpCheck : IBackendCheck, IDisposable
{
    const int DetailBytes = 200;
    readonly HttpClient _http;
    readonly TimeSpan _timeout;
    readonly string _replicaPath;
    readonly TimeProvider _time;

    /// <param name="timeout">How long one check (both requests) may take.</param>
    /// <param name="maximumReplicaLag">Bytes, passed as <c>/replica?lag=</c>; null: any lag.</param>
    /// <param name="time">The clock for the deadline and the latency.</param>
    /// <param name="handler">The handler to send through (tests); by default a pooled <see cref="SocketsHttpHandler"/>.</param>
    public HttpCheck(TimeSpan timeout, long? maximumReplicaLag, TimeProvider time, HttpMessageHandler? handler = null)
    {
        _timeout = timeout;
        _time = time;
        _replicaPath = maximumReplicaLag is long lag ? "/replica?lag=" + lag.ToString(CultureInfo.InvariantCulture) : "/replica";
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            // Never through an HTTP_PROXY of the environment: the check must reach the node itself.
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectTimeout = timeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            SslOptions = new SslClientAuthenticationOptions(),
        })
        {
            // The deadline is ours (CheckRun), so a timeout is told apart from a stop.
            Timeout = Timeout.InfiniteTimeSpan,
            // A health answer is a few bytes; a server streaming more is broken (a Protocol failure).
            MaxResponseContentBufferSize = 64 * 1024,
        };
    }

    public string Type => "http";

    public Task<CheckOutcome> RunAsync(CheckTarget target, CancellationToken ct)
    {
        if (BaseUrl(target.ApiUrl) is not { } api)
            return Task.FromResult(CheckOutcome.Fail(CheckLayer.Refused, target.ApiUrl is null
                ? "no REST API address known (a [[proxy.backend]] api, or the member key's api_url)"
                : $"'{target.ApiUrl}' is not an http(s) URL"));
        return CheckRun.TimedAsync(_time, _timeout, async token =>
        {
            var (primary, primaryBody) = await AskAsync(api + "/primary", token).ConfigureAwait(false);
            if (primary == HttpStatusCode.OK) return CheckOutcome.Pass(BackendRole.Primary, "OPTIONS /primary: 200");
            var (replica, replicaBody) = await AskAsync(api + _replicaPath, token).ConfigureAwait(false);
            if (replica == HttpStatusCode.OK) return CheckOutcome.Pass(BackendRole.Replica, $"OPTIONS {_replicaPath}: 200");
            return CheckOutcome.Fail(CheckLayer.WrongRole,
                $"neither primary nor replica: OPTIONS /primary: {(int)primary}{primaryBody}, OPTIONS {_replicaPath}: {(int)replica}{replicaBody}");
        }, ct);
    }

    async Task<(HttpStatusCode, string)> AskAsync(string url, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, url);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.OK) return (response.StatusCode, "");
        // The start of the body says why (our agent and GET-style answers explain; Patroni's OPTIONS has none).
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        body = body.Length > DetailBytes ? body[..DetailBytes] + "…" : body;
        return (response.StatusCode, body.Trim() is { Length: > 0 } b ? $" ({b.ReplaceLineEndings(" ")})" : "");
    }

    /// <summary>Scheme and authority only: a member key's api_url ends in <c>/patroni</c>, the health endpoints sit at the root.</summary>
    static string? BaseUrl(string? apiUrl)
        => Uri.TryCreate(apiUrl, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttp || u.Scheme == Uri.UriSchemeHttps)
            ? u.GetLeftPart(UriPartial.Authority)
            : null;

    public void Dispose() => _http.Dispose();
}
