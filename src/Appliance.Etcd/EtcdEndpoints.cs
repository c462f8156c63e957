using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Appliance.Configuration;
using dotnet_etcd;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace Appliance.Etcd;

/// <summary>One etcd endpoint: its own gRPC channel and the clients over it.</summary>
internal sealed class EtcdEndpoint(Uri uri, GrpcChannel channel, CallInvoker invoker) : IDisposable
{
    public Uri Uri { get; } = uri;
    public EtcdClient Client { get; } = new(invoker);
    public KV.KVClient Kv { get; } = new(invoker);
    public Lease.LeaseClient Leases { get; } = new(invoker);
    public Watch.WatchClient Watches { get; } = new(invoker);
    public Auth.AuthClient Auth { get; } = new(invoker);

    public override string ToString() => Uri.GetLeftPart(UriPartial.Authority);

    public void Dispose()
    {
        Client.Dispose();
        channel.Dispose();
    }
}

/// <summary>
/// Every endpoint of <c>[etcd]</c>, each on its own gRPC channel, and the one way calls go out
/// (<see cref="CallAsync"/>): to the endpoint that answered last, each attempt bounded by
/// <see cref="AttemptTimeout"/>, the next endpoint tried at once when one fails or does not answer in
/// time, round after round until the caller's token ends. TLS comes from
/// <c>ca_file</c>/<c>cert_file</c>/<c>key_file</c>, etcd's token authentication from <c>username</c>/<c>password</c>.
/// </summary>
/// <remarks>
/// <para>Why not one channel with round-robin (what this was) or gRPC's own hedging/retry policies: a
/// frozen etcd member (SIGSTOP, a hung disk, a stalled VM) keeps its TCP connections, and its kernel
/// still completes new TCP handshakes into the listen backlog, so its subchannel stays "ready" and
/// round-robin keeps handing it calls that hang until the caller's deadline — a whole
/// <c>retry_timeout</c>, after which the primary demotes. A retry policy only reacts to a status code,
/// never to silence; hedging sends at most 5 attempts, each through the same round-robin picker
/// (which may pick the frozen member again), and does not start over when they all hang — which is
/// what every write does while the Raft leader is frozen, until the followers elect a new one.
/// Patroni does the same as this class: one endpoint at a time, a per-node timeout of
/// <c>retry_timeout</c> divided by the number of nodes, the next node on failure.</para>
/// <para>HTTP/2 keepalive pings (every second, two seconds to answer) tear down a connection to a
/// dead or frozen member, so a long-lived call on it (a watch) fails instead of waiting for ever.</para>
/// <para>Duplicates: an attempt given up on may still be applied by etcd (the member thaws and
/// forwards the request; a follower's proposal reaches a new leader). Every write the store makes is
/// either idempotent (puts of the same value, reads, lease keepalives) or a transaction whose compare
/// makes a second application fail; the store reads back what a failed compare-and-swap found and
/// counts its own earlier write as a success (see <c>EtcdClusterStore.TxnAsync</c>).</para>
/// </remarks>
internal sealed partial class EtcdEndpoints : IDisposable
{
    /// <summary>The default bound of one attempt on one endpoint: healthy etcd answers in milliseconds.</summary>
    public static readonly TimeSpan DefaultAttemptTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Pause after a whole round of endpoints failed at once (refused connections): no busy loop while etcd is down.</summary>
    private static readonly TimeSpan RoundPause = TimeSpan.FromMilliseconds(100);

    private readonly EtcdEndpoint[] _endpoints;
    private readonly TimeProvider _time;
    private readonly ILogger? _log;
    private int _preferred;
    private int _preferredAnswered; // 1 once the preferred endpoint answered: its loss is logged, an outage's rotation is not

    private EtcdEndpoints(EtcdEndpoint[] endpoints, EtcdAuth? auth, TimeSpan attemptTimeout, TimeProvider time, ILogger? log)
    {
        _endpoints = endpoints;
        Auth = auth;
        AttemptTimeout = attemptTimeout;
        _time = time;
        _log = log;
    }

    /// <summary>The endpoints of <paramref name="etcd"/>, connected lazily; a switch away from an endpoint that answered is logged to <paramref name="log"/>.</summary>
    public static EtcdEndpoints Connect(EtcdSection etcd, TimeSpan? attemptTimeout = null, TimeProvider? time = null, ILogger? log = null)
    {
        var timeout = attemptTimeout ?? DefaultAttemptTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero, nameof(attemptTimeout));
        if (etcd.Endpoints.Count == 0) throw new ArgumentException("etcd.endpoints is empty", nameof(etcd));
        var uris = etcd.Endpoints.Select(e => Uri.TryCreate(e, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"
                ? u
                : throw new ArgumentException($"etcd.endpoints: '{e}' is not an http:// or https:// URL", nameof(etcd)))
            .ToArray();
        var tls = uris[0].Scheme == "https";
        if (uris.Any(u => (u.Scheme == "https") != tls))
            throw new ArgumentException("etcd.endpoints: mix of http:// and https://", nameof(etcd));

        var auth = string.IsNullOrEmpty(etcd.Username) ? null : new EtcdAuth(etcd.Username, etcd.Password ?? "");
        var ssl = tls ? SslOptions(etcd) : null;
        var endpoints = uris.Select(u =>
        {
            var channel = Channel(u, ssl, auth);
            var invoker = channel.CreateCallInvoker();
            return new EtcdEndpoint(u, channel, invoker);
        }).ToArray();
        var set = new EtcdEndpoints(endpoints, auth, timeout, time ?? TimeProvider.System, log);
        auth?.Attach(set);
        return set;
    }

    /// <summary>etcd's token authentication, when <c>username</c> is set.</summary>
    public EtcdAuth? Auth { get; }

    /// <summary>The clock every attempt's bound runs on.</summary>
    public TimeProvider Time => _time;

    /// <summary>How long one attempt on one endpoint may take before the next endpoint is tried.</summary>
    public TimeSpan AttemptTimeout { get; }

    /// <summary>The endpoint calls go to first: the one that answered last.</summary>
    public EtcdEndpoint Preferred => _endpoints[Volatile.Read(ref _preferred)];

    /// <summary>
    /// Moves the preference off <paramref name="endpoint"/> (it failed or fell silent) onto the next one,
    /// unless a call already moved it.
    /// </summary>
    public void Avoid(EtcdEndpoint endpoint, string reason)
    {
        var i = Array.IndexOf(_endpoints, endpoint);
        var next = (i + 1) % _endpoints.Length;
        if (i < 0 || Interlocked.CompareExchange(ref _preferred, next, i) != i) return;
        if (Interlocked.Exchange(ref _preferredAnswered, 0) == 1 && _log is not null) LogAvoided(_log, endpoint.ToString(), reason, _endpoints[next].ToString());
    }

    /// <summary>Notes that <paramref name="endpoint"/> answered: it is the one calls go to first.</summary>
    public void Answered(EtcdEndpoint endpoint)
    {
        var i = Array.IndexOf(_endpoints, endpoint);
        if (i < 0) return;
        Volatile.Write(ref _preferred, i);
        Volatile.Write(ref _preferredAnswered, 1);
    }

    /// <summary>
    /// Runs <paramref name="call"/> on the preferred endpoint, bounded by <see cref="AttemptTimeout"/>;
    /// when it fails with a transient error (unavailable, a timeout, etcd's "leader changed" or "request
    /// timed out") or does not answer in time, on the next endpoint at once, and so on round after round,
    /// until it succeeds, fails with a definite answer (which is thrown), or <paramref name="ct"/> ends
    /// (<see cref="OperationCanceledException"/>). Each round after the first gives an attempt one more
    /// <see cref="AttemptTimeout"/>, so a cluster that is slow but working is still waited for. An expired
    /// authentication token is renewed and the attempt repeated once (<see cref="EtcdAuth.CallAsync"/>).
    /// </summary>
    public async Task<T> CallAsync<T>(Func<EtcdEndpoint, CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var start = Volatile.Read(ref _preferred);
        for (var attempt = 0; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            var i = (start + attempt) % _endpoints.Length;
            var endpoint = _endpoints[i];
            var limit = AttemptTimeout * (1 + attempt / _endpoints.Length);
            using var attemptTimeout = new CancellationTokenSource(limit, _time);
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct, attemptTimeout.Token);
            string reason;
            try
            {
                var result = await EtcdAuth.CallAsync(Auth, () => call(endpoint, bound.Token));
                Answered(endpoint);
                return result;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // This endpoint did not answer within the attempt's bound: the next one.
                reason = $"no answer within {limit.TotalSeconds:0.##} s";
            }
            catch (RpcException e) when (IsTransient(e) && !ct.IsCancellationRequested)
            {
                // Refused, reset, or etcd itself could not serve it now: the next one.
                reason = $"{e.StatusCode}: {e.Status.Detail}";
            }
            Avoid(endpoint, reason);
            if ((attempt + 1) % _endpoints.Length == 0) await Task.Delay(RoundPause, _time, ct);
        }
    }

    /// <summary>
    /// Errors after which another attempt (elsewhere, or later) may succeed. etcd answers Unavailable for
    /// "leader changed", "no leader", "request timed out" and a stopping member; gRPC answers Unavailable
    /// for a refused or broken connection, Internal for an HTTP/2 stream reset.
    /// </summary>
    public static bool IsTransient(RpcException e) => e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded
        or StatusCode.Internal or StatusCode.Cancelled or StatusCode.Aborted;

    public void Dispose()
    {
        foreach (var e in _endpoints) e.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "etcd: {Endpoint} failed ({Reason}): calls go to {Next} now")]
    private static partial void LogAvoided(ILogger log, string endpoint, string reason, string next);

    private static GrpcChannel Channel(Uri uri, SslClientAuthenticationOptions? ssl, EtcdAuth? auth)
    {
        var handler = new SocketsHttpHandler
        {
            // A dead endpoint must not hold an attempt for long; the next endpoint is tried.
            ConnectTimeout = TimeSpan.FromSeconds(1),
            // A frozen member keeps its connection open and answers nothing: the ping's answer is what
            // tells a quiet healthy connection (a watch on a quiet cluster) from a dead one.
            KeepAlivePingDelay = TimeSpan.FromSeconds(1),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(2),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true,
        };
        if (ssl is not null) handler.SslOptions = ssl;

        var credentials = ssl is not null ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        if (auth is not null) credentials = ChannelCredentials.Create(credentials, auth.CallCredentials);
        return GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            Credentials = credentials,
            // etcd accepts tokens over plain http; gRPC refuses call credentials there unless told.
            UnsafeUseInsecureChannelCallCredentials = auth is not null && ssl is null,
            ThrowOperationCanceledOnCancellation = true,
        });
    }

    private static SslClientAuthenticationOptions SslOptions(EtcdSection etcd)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (!string.IsNullOrEmpty(etcd.CaFile))
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.ImportFromPemFile(etcd.CaFile);
            ssl.CertificateChainPolicy = policy;
        }
        if (!string.IsNullOrEmpty(etcd.CertFile))
        {
            using var pem = X509Certificate2.CreateFromPemFile(etcd.CertFile, string.IsNullOrEmpty(etcd.KeyFile) ? null : etcd.KeyFile);
            // SslStream wants a certificate whose key is not ephemeral: round-trip through PKCS#12.
            ssl.ClientCertificates = [X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null)];
        }
        return ssl;
    }
}

/// <summary>
/// etcd's token authentication: <c>Authenticate(name, password)</c> gives a token that every call
/// carries in its <c>token</c> header. The token is fetched lazily and dropped when etcd says it is
/// no longer valid (<see cref="IsAuthError"/>), so the next call authenticates again.
/// </summary>
internal sealed class EtcdAuth(string username, string password)
{
    private static readonly TimeSpan AuthenticateTimeout = TimeSpan.FromSeconds(10);
    private Task<string>? _token;
    private EtcdEndpoints? _endpoints;

    public void Attach(EtcdEndpoints endpoints) => _endpoints = endpoints;

    public CallCredentials CallCredentials => Grpc.Core.CallCredentials.FromInterceptor(async (context, metadata) =>
    {
        // The Authenticate call itself goes out without a token.
        if (context.MethodName == "Authenticate") return;
        metadata.Add("token", await GetTokenAsync().WaitAsync(context.CancellationToken));
    });

    public void Invalidate() => Volatile.Write(ref _token, null);

    /// <summary>Runs one call; when etcd rejects the auth token (expired), authenticates again and retries once.</summary>
    public static async Task<T> CallAsync<T>(EtcdAuth? auth, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException e) when (auth is not null && IsAuthError(e))
        {
            auth.Invalidate();
            return await call();
        }
    }

    public static bool IsAuthError(RpcException e) =>
        e.StatusCode == StatusCode.Unauthenticated
        || e.Status.Detail.Contains("invalid auth token", StringComparison.Ordinal);

    /// <summary>One authentication shared by all concurrent callers; a failed one is retried by the next caller.</summary>
    private Task<string> GetTokenAsync()
    {
        var current = Volatile.Read(ref _token);
        if (current is { IsFaulted: false, IsCanceled: false }) return current;
        var fresh = AuthenticateAsync();
        var seen = Interlocked.CompareExchange(ref _token, fresh, current);
        return seen == current ? fresh : seen!;
    }

    /// <summary>Authenticates on whichever endpoint answers (a frozen one is passed over like for any call).</summary>
    private async Task<string> AuthenticateAsync()
    {
        var endpoints = _endpoints ?? throw new InvalidOperationException("EtcdAuth used before Attach");
        using var timeout = new CancellationTokenSource(AuthenticateTimeout, endpoints.Time);
        var r = await endpoints.CallAsync((e, ct) => e.Auth.AuthenticateAsync(new AuthenticateRequest { Name = username, Password = password },
            cancellationToken: ct).ResponseAsync, timeout.Token);
        return r.Token;
    }
}
