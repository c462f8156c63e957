using System.Globalization;
using System.Net;
using Appliance.Balancer.Proxy;
using Appliance.Balancer.Speaker;
using Appliance.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace Appliance.Balancer.Http;

/// <summary>
/// The balancer's HTTP listener (<c>balancer.listen</c>): <c>/metrics</c> when <c>metrics.enabled</c>,
/// <c>/status</c> (VRRP), and with a proxy <c>/proxy</c> (JSON) and <c>/stats</c> (HTML). All read-only.
/// </summary>
public static class HttpEndpoints
{
    /// <summary>Binds Kestrel to <c>balancer.listen</c> (host:port, IPv6 in brackets, as validated by the configuration).</summary>
    public static void Listen(WebApplicationBuilder builder, BalancerSection balancer)
    {
        var colon = balancer.Listen.LastIndexOf(':');
        var host = balancer.Listen[..colon].Trim('[', ']');
        var port = int.Parse(balancer.Listen[(colon + 1)..], CultureInfo.InvariantCulture);
        var address = host is "0.0.0.0" or "*" or "" ? IPAddress.Any : host == "::" ? IPAddress.IPv6Any
            : IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port));
    }

    public static void Map(WebApplication app, ApplianceConfig config, BalancerMetrics metrics, Func<IEnumerable<InstanceStatus>> instances, Func<ProxyStatus?> proxy)
    {
        app.MapGet("/proxy", (RequestDelegate)(async ctx =>
        {
            if (await ProxyOr404Async(ctx, proxy) is not { } status) return;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(ProxyStatusJson.Write(status), ctx.RequestAborted);
        }));
        app.MapGet("/stats", (RequestDelegate)(async ctx =>
        {
            if (await ProxyOr404Async(ctx, proxy) is not { } status) return;
            ctx.Response.ContentType = "text/html; charset=utf-8";
            await ctx.Response.WriteAsync(ProxyStatsPage.Render(status, DateTimeOffset.UtcNow), ctx.RequestAborted);
        }));
        app.MapGet("/status", (RequestDelegate)(async ctx =>
        {
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(StatusJson.Write(instances()), ctx.RequestAborted);
        }));
        if (config.Metrics.Enabled)
        {
            app.MapGet("/metrics", (RequestDelegate)(async ctx =>
            {
                ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await metrics.ExportAsync(ctx.Response.Body, ctx.RequestAborted);
            }));
        }
    }

    static async Task<ProxyStatus?> ProxyOr404Async(HttpContext ctx, Func<ProxyStatus?> proxy)
    {
        if (proxy() is { } status) return status;
        ctx.Response.StatusCode = StatusCodes.Status404NotFound;
        await ctx.Response.WriteAsync("no proxy configured: add a [[proxy.listener]]\n", ctx.RequestAborted);
        return null;
    }
}
