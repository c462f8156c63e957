using Appliance.Agent.Ha;
using Appliance.Agent.Metrics;
using Appliance.Cluster;
using Appliance.Configuration;
using Appliance.Fencing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Appliance.Agent.Api;

/// <summary>
/// The REST API on <c>restapi.listen</c>: Patroni's read endpoints with its status codes and JSON,
/// HEAD and OPTIONS answering with the same codes (HAProxy's <c>option httpchk OPTIONS /primary</c>),
/// and <c>/metrics</c>.
/// </summary>
public sealed class RestApi(
    ApplianceConfig config, AgentState state, ProbeCache probe, AgentMetrics metrics, TimeProvider time, MemberPublisher publisher,
    IWatchdog watchdog, RestartScheduler restarts)
{
    static readonly string[] Methods = ["GET", "HEAD", "OPTIONS"];
    static readonly string[] HealthPaths =
    [
        "/", "/primary", "/master", "/leader", "/read-write", "/replica", "/read-only", "/health",
        "/sync", "/synchronous", "/async", "/asynchronous", "/read-only-sync", "/read-only-synchronous",
        "/standby-leader", "/standby_leader",
    ];

    public void Map(WebApplication app)
    {
        foreach (var path in HealthPaths)
            app.MapMethods(path, Methods, (RequestDelegate)(ctx => HealthAsync(ctx, path)));
        app.MapMethods("/patroni", Methods, (RequestDelegate)(async ctx =>
            await WriteJsonAsync(ctx, 200, StatusJson.Node(state.Current, await probe.GetAsync(ctx.RequestAborted), config.Cluster.Scope, Tags, watchdog.State, restarts.Published))));
        app.MapMethods("/liveness", Methods, (RequestDelegate)(ctx =>
            StatusOnlyAsync(ctx, HealthRules.Liveness(state.Current, TimeSpan.FromSeconds(config.Agent.Ttl), time.GetUtcNow()))));
        app.MapMethods("/readiness", Methods, (RequestDelegate)(async ctx =>
            await StatusOnlyAsync(ctx, HealthRules.Readiness(await FactsAsync(ctx)))));
        app.MapMethods("/cluster", Methods, (RequestDelegate)(ctx => WriteJsonAsync(ctx, 200, StatusJson.Cluster(state.Current.Cluster))));
        app.MapMethods("/history", Methods, (RequestDelegate)(ctx => WriteJsonAsync(ctx, 200, Utf8(state.Current.Cluster.HistoryJson ?? "[]"))));
        app.MapMethods("/config", Methods, (RequestDelegate)(ctx => state.Current.Cluster.ConfigJson is { } json
            ? WriteJsonAsync(ctx, 200, Utf8(json))
            : WriteJsonAsync(ctx, 502, Utf8("{\"error\":\"the cluster has no configuration in etcd yet\"}"))));
        if (config.Metrics.Enabled)
        {
            app.MapGet("/metrics", (RequestDelegate)(async ctx =>
            {
                ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await metrics.ExportAsync(ctx.Response.Body, ctx.RequestAborted);
            }));
        }
    }

    IReadOnlyDictionary<string, JsonTagValue>? Tags => publisher.Build(state.Current.Postgres, "").Tags;

    async Task HealthAsync(HttpContext ctx, string path)
    {
        var facts = await FactsAsync(ctx);
        var code = HealthRules.StatusCode(path, facts);
        if (HttpMethods.IsGet(ctx.Request.Method))
            await WriteJsonAsync(ctx, code, StatusJson.Node(facts.Status, facts.Postgres, config.Cluster.Scope, Tags, watchdog.State, restarts.Published));
        else
            await StatusOnlyAsync(ctx, code);
    }

    async Task<HealthRules.Facts> FactsAsync(HttpContext ctx)
    {
        var s = state.Current;
        var pg = await probe.GetAsync(ctx.RequestAborted);
        // The lock counts only while the lease the loop renewed cannot have expired yet.
        var leaseValid = s.HoldsLock && s.LeaseRenewedAt is { } at && time.GetUtcNow() - at < TimeSpan.FromSeconds(config.Agent.Ttl);
        var lag = HealthRules.ParseLag(ctx.Request.Query["lag"].FirstOrDefault());
        return new(s, pg, config.Tags.Noloadbalance, leaseValid, lag);
    }

    static Task StatusOnlyAsync(HttpContext ctx, int code)
    {
        ctx.Response.StatusCode = code;
        return Task.CompletedTask;
    }

    static async Task WriteJsonAsync(HttpContext ctx, int code, byte[] body)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        if (HttpMethods.IsGet(ctx.Request.Method))
            await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted);
    }

    static byte[] Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);
}
