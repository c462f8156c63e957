using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Appliance.Configuration;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Appliance.Etcd;

/// <summary>
/// Builds the one gRPC channel a store talks over, from <c>[etcd]</c>: every endpoint behind a static
/// resolver with round-robin picking (a call goes to an endpoint that is connected; one etcd down does
/// not stall the node), TLS from <c>ca_file</c>/<c>cert_file</c>/<c>key_file</c>, and etcd's token
/// authentication from <c>username</c>/<c>password</c>.
/// </summary>
/// <remarks>
/// dotnet-etcd 10's own string constructor also splits a comma-separated list into a static resolver,
/// but it adds a channel-wide retry policy (5 attempts, 1–5 s back-off on Unavailable) that would
/// stretch a leader renewal past <c>retry_timeout</c>, so we build the channel ourselves and hand
/// dotnet-etcd its <see cref="CallInvoker"/>. Callers bound every call with their token.
/// </remarks>
internal static class EtcdChannel
{
    /// <summary>The channel, its call invoker with the token authentication attached (when <c>username</c> is set), and that authentication.</summary>
    public static (GrpcChannel Channel, CallInvoker Invoker, EtcdAuth? Auth) Connect(EtcdSection etcd)
    {
        var auth = string.IsNullOrEmpty(etcd.Username) ? null : new EtcdAuth(etcd.Username, etcd.Password ?? "");
        var channel = Create(etcd, auth);
        var invoker = channel.CreateCallInvoker();
        auth?.Attach(invoker);
        return (channel, invoker, auth);
    }

    public static GrpcChannel Create(EtcdSection etcd, EtcdAuth? auth)
    {
        if (etcd.Endpoints.Count == 0) throw new ArgumentException("etcd.endpoints is empty", nameof(etcd));
        var uris = etcd.Endpoints.Select(e => Uri.TryCreate(e, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"
                ? u
                : throw new ArgumentException($"etcd.endpoints: '{e}' is not an http:// or https:// URL", nameof(etcd)))
            .ToArray();
        var tls = uris[0].Scheme == "https";
        if (uris.Any(u => (u.Scheme == "https") != tls))
            throw new ArgumentException("etcd.endpoints: mix of http:// and https://", nameof(etcd));

        var handler = new SocketsHttpHandler
        {
            // A dead endpoint must not hold a call for long; the balancer moves on to a live one.
            ConnectTimeout = TimeSpan.FromSeconds(2),
            KeepAlivePingDelay = TimeSpan.FromSeconds(5),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            EnableMultipleHttp2Connections = true,
        };
        if (tls) handler.SslOptions = SslOptions(etcd);

        var credentials = tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        if (auth is not null) credentials = ChannelCredentials.Create(credentials, auth.CallCredentials);

        var services = new ServiceCollection();
        services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => uris.Select(u => new BalancerAddress(u.Host, u.Port)).ToArray()));
        var options = new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            Credentials = credentials,
            // etcd accepts tokens over plain http; gRPC refuses call credentials there unless told.
            UnsafeUseInsecureChannelCallCredentials = auth is not null && !tls,
            ThrowOperationCanceledOnCancellation = true,
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } },
            ServiceProvider = services.BuildServiceProvider(),
        };
        // The authority names the first endpoint: TLS checks each server's certificate against the host it dials.
        return GrpcChannel.ForAddress($"static://{uris[0].Host}:{uris[0].Port}", options);
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
    private Auth.AuthClient? _client;

    public void Attach(CallInvoker invoker) => _client = new Auth.AuthClient(invoker);

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

    private async Task<string> AuthenticateAsync()
    {
        var client = _client ?? throw new InvalidOperationException("EtcdAuth used before Attach");
        var r = await client.AuthenticateAsync(new AuthenticateRequest { Name = username, Password = password },
            deadline: DateTime.UtcNow + AuthenticateTimeout);
        return r.Token;
    }
}
