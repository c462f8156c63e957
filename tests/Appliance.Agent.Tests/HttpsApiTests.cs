using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.TestKit;

namespace Appliance.Agent.Tests;

/// <summary>The REST API over HTTPS, with basic auth on the unsafe endpoints: the built agent, a real TLS handshake.</summary>
public sealed class HttpsApiTests : IDisposable
{
    readonly TempDir _dir = new("appl-https");
    Process? _agent;

    public void Dispose()
    {
        if (_agent is { HasExited: false }) _agent.Kill();
        _agent?.WaitForExit(10_000);
        _agent?.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task Serves_https_and_refuses_unsafe_requests_without_credentials()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllText(_dir.Sub("api.pem"), cert.ExportCertificatePem());
        File.WriteAllText(_dir.Sub("api.key"), key.ExportPkcs8PrivateKeyPem());

        var port = FreePorts.Next();
        var deadEtcd = FreePorts.Next();
        File.WriteAllText(_dir.Sub("appliance.toml"), $"""
            [node]
            name = "db1"
            [cluster]
            scope = "https-test"
            [etcd]
            endpoints = ["http://127.0.0.1:{deadEtcd}"]
            [postgresql]
            data_dir = "{_dir.Sub("data")}"
            [restapi]
            listen = "127.0.0.1:{port}"
            cert_file = "{_dir.Sub("api.pem")}"
            key_file = "{_dir.Sub("api.key")}"
            username = "admin"
            password = "s3cret-https"
            """);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "appliance-agent.dll"), "--config", _dir.Sub("appliance.toml") })
            psi.ArgumentList.Add(a);
        _agent = Process.Start(psi)!;
        _agent.OutputDataReceived += (_, _) => { };
        _agent.ErrorDataReceived += (_, _) => { };
        _agent.BeginOutputReadLine();
        _agent.BeginErrorReadLine();

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, c, _, _) => c?.Thumbprint == cert.Thumbprint };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(5) };
        var url = $"https://127.0.0.1:{port}";
        await Wait.UntilAsync("the agent answers over HTTPS", async () =>
        {
            try { return (await http.GetAsync($"{url}/health")).StatusCode == HttpStatusCode.ServiceUnavailable; }
            catch (HttpRequestException) { return false; }
        }, TimeSpan.FromSeconds(60));

        using var unsafeRequest = new HttpRequestMessage(HttpMethod.Post, $"{url}/switchover") { Content = new StringContent("""{"leader":"db1"}""") };
        using var refused = await http.SendAsync(unsafeRequest);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("Basic", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync($"http://127.0.0.1:{port}/health"));
    }
}
