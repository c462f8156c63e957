using System.Net;
using System.Security.Cryptography.X509Certificates;
using Appliance.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Appliance.Agent.Api;

/// <summary>
/// Where and how the REST API listens: <c>restapi.listen</c>, plain HTTP, or HTTPS when
/// <c>cert_file</c>/<c>key_file</c> are set, with client certificates checked against <c>ca_file</c>
/// as <c>verify_client</c> says.
/// </summary>
public static class ApiListener
{
    public static void Configure(WebApplicationBuilder builder, RestApiSection api)
    {
        var colon = api.Listen.LastIndexOf(':');
        var host = api.Listen[..colon].Trim('[', ']');
        var port = int.Parse(api.Listen[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var address = host is "0.0.0.0" or "*" or "" ? IPAddress.Any : host == "::" ? IPAddress.IPv6Any
            : IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port, listen =>
        {
            if (api.CertFile is null || api.KeyFile is null) return;
            var certificate = X509Certificate2.CreateFromPemFile(api.CertFile, api.KeyFile);
            listen.UseHttps(https =>
            {
                https.ServerCertificate = certificate;
                https.ClientCertificateMode = api.VerifyClient switch
                {
                    "required" => ClientCertificateMode.RequireCertificate,
                    "optional" => ClientCertificateMode.AllowCertificate,
                    _ => ClientCertificateMode.NoCertificate,
                };
                if (api.CaFile is { } caFile && api.VerifyClient != "none")
                {
                    var authorities = new X509Certificate2Collection();
                    authorities.ImportFromPemFile(caFile);
                    https.ClientCertificateValidation = (cert, _, _) => ChainsTo(cert, authorities);
                }
            });
        }));
    }

    /// <summary>The client certificate chains to one of the configured authorities (and to nothing else).</summary>
    static bool ChainsTo(X509Certificate2 cert, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(cert);
    }
}
