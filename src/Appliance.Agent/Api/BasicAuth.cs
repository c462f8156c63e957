using System.Security.Cryptography;
using System.Text;
using Appliance.Configuration;
using Microsoft.AspNetCore.Http;

namespace Appliance.Agent.Api;

/// <summary>
/// HTTP basic authentication for the unsafe endpoints, when <c>[restapi] username</c> and <c>password</c>
/// are set (Patroni's <c>check_access</c>). Compared in constant time; the password is never logged.
/// </summary>
public sealed class BasicAuth(RestApiSection api)
{
    readonly byte[]? _expected = api.Username is { } u && api.Password is { } p ? Encoding.UTF8.GetBytes($"{u}:{p}") : null;

    public bool Required => _expected is not null;

    /// <summary>True when no credentials are configured, or the request carries the right ones.</summary>
    public bool Allows(HttpRequest request)
    {
        if (_expected is null) return true;
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        byte[] given;
        try
        {
            given = Convert.FromBase64String(header["Basic ".Length..].Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(given, _expected);
    }

    /// <summary>Answers 401 with the challenge; nothing is changed.</summary>
    public static Task ChallengeAsync(HttpContext ctx)
    {
        ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
        ctx.Response.Headers.WWWAuthenticate = "Basic realm=\"appliance\"";
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        return ctx.Response.WriteAsync("no valid credentials: this endpoint needs the REST API's basic-auth user and password\n", ctx.RequestAborted);
    }
}
