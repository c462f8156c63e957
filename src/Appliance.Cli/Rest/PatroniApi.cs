using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Appliance.Cli.Model;
using Appliance.Cli.Output;
using Appliance.Configuration;

namespace Appliance.Cli.Rest;

/// <summary>
/// Talks to members' REST APIs as patronictl's <c>PatroniRequest</c> does: the URL is the member's
/// <c>api_url</c> with its path replaced by the endpoint, the body is JSON, and every request carries
/// basic auth from <c>[restapi] username/password</c> when they are set. HTTPS is verified against
/// <c>[restapi] ca_file</c> when given, else the system's trust store.
/// </summary>
internal sealed class PatroniApi : IDisposable
{
    private readonly HttpClient _http;
    private readonly AuthenticationHeaderValue? _auth;

    public PatroniApi(RestApiSection restapi, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) };
        if (!string.IsNullOrEmpty(restapi.CaFile))
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.ImportFromPemFile(restapi.CaFile);
            handler.SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
        }
        _http = new HttpClient(handler) { Timeout = timeout };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("appliancectl");
        if (!string.IsNullOrEmpty(restapi.Username))
            _auth = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{restapi.Username}:{restapi.Password}")));
    }

    /// <summary>The URL of <paramref name="endpoint"/> on the member (its <c>api_url</c>'s scheme and authority).</summary>
    public static Uri UrlOf(MemberView member, string endpoint)
    {
        if (!Uri.TryCreate(member.ApiUrl, UriKind.Absolute, out var api))
            throw new ApiUnreachableException($"{member.Name} publishes no usable api_url ('{member.ApiUrl}')", new UriFormatException(member.ApiUrl));
        return new Uri($"{api.Scheme}://{api.Authority}/{endpoint}");
    }

    /// <summary>Sends one request; throws <see cref="ApiUnreachableException"/> when the member does not answer.</summary>
    public async Task<ApiResponse> SendAsync(MemberView member, HttpMethod method, string endpoint, JsonNode? body, CancellationToken ct)
    {
        var url = UrlOf(member, endpoint);
        using var request = new HttpRequestMessage(method, url);
        if (_auth is not null) request.Headers.Authorization = _auth;
        if (body is not null)
            request.Content = new StringContent(PyJson.Write(body), Encoding.UTF8, "application/json");
        else if (method != HttpMethod.Get)
            request.Content = new ByteArrayContent([]);
        try
        {
            using var response = await _http.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            return new ApiResponse((int)response.StatusCode, text);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !ct.IsCancellationRequested)
        {
            var reason = e is TaskCanceledException ? $"no answer within {_http.Timeout.TotalSeconds:0} s" : e.Message;
            throw new ApiUnreachableException($"{method} {url} on {member.Name}: {reason}", e);
        }
    }

    public void Dispose() => _http.Dispose();
}
