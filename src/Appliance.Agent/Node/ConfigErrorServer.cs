using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Appliance.Agent.Node;

/// <summary>
/// <c>appliance-agent config-error --errors FILE [--port N]</c>: what a node whose configuration is bad runs
/// instead of its roles, so that the fault is visible from outside: <c>/metrics</c> answers
/// <c>appliance_node_config_error 1</c> (alerted on), every other path answers 503 with the errors.
/// </summary>
public static class ConfigErrorServer
{
    /// <summary>The command word.</summary>
    public const string Name = "config-error";

    /// <summary>The metric Prometheus alerts on (monitoring/alerts.yml).</summary>
    public const string Metric = "appliance_node_config_error";

    /// <summary>Serves until SIGTERM; returns the exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stderr);
        string? errorsFile = null;
        var port = 8008;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--errors" && i + 1 < args.Count) errorsFile = args[++i];
            else if (args[i] == "--port" && i + 1 < args.Count && int.TryParse(args[++i], out var p) && p is > 0 and < 65536) port = p;
            else
            {
                await stderr.WriteLineAsync("usage: appliance-agent config-error --errors FILE [--port N]");
                return 2;
            }
        }
        if (errorsFile is null)
        {
            await stderr.WriteLineAsync("usage: appliance-agent config-error --errors FILE [--port N]");
            return 2;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Any, port));
        var app = builder.Build();
        app.MapGet("/metrics", (RequestDelegate)(ctx =>
        {
            ctx.Response.ContentType = "text/plain; version=0.0.4";
            return ctx.Response.WriteAsync(
                $"# HELP {Metric} 1 while this node's configuration is invalid and it runs no role.\n# TYPE {Metric} gauge\n{Metric} 1\n");
        }));
        app.MapFallback((RequestDelegate)(ctx =>
        {
            ctx.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            var errors = File.Exists(errorsFile) ? File.ReadAllText(errorsFile) : "(the error file is gone)\n";
            return ctx.Response.WriteAsync("configuration error: this node runs no role until its configuration is fixed\n\n" + errors);
        }));
        await app.RunAsync();
        return 0;
    }
}
