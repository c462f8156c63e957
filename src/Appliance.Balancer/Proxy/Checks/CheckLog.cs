using Appliance.Proxy;
using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>The health checks' log lines: state changes only, never one line per check, never a password.</summary>
static partial class CheckLog
{
    [LoggerMessage(521, LogLevel.Information, "health check: {Backend} is UP ({Role}) after {Rise} passing {Type} checks: {Detail}")]
    public static partial void BackendUp(this ILogger log, string backend, BackendRole role, int rise, string type, string detail);

    [LoggerMessage(522, LogLevel.Warning, "health check: {Backend} is DOWN after {Fall} failed {Type} checks; the last failed at {Layer}: {Detail}")]
    public static partial void BackendDown(this ILogger log, string backend, int fall, string type, CheckLayer layer, string detail);

    [LoggerMessage(523, LogLevel.Information, "health check: {Backend} now reports {Role} (was {Before}): {Detail}")]
    public static partial void RoleChanged(this ILogger log, string backend, BackendRole role, BackendRole before, string detail);

    [LoggerMessage(524, LogLevel.Information, "health check: {Backend} is not up yet: its first {Type} check failed at {Layer}: {Detail}")]
    public static partial void FirstCheckFailed(this ILogger log, string backend, string type, CheckLayer layer, string detail);

    [LoggerMessage(525, LogLevel.Information, "health check: checking {Backend} at {Host}:{Port} (api {Api}) every {Inter} ms with {Type}")]
    public static partial void Tracking(this ILogger log, string backend, string host, int port, string api, double inter, string type);

    [LoggerMessage(526, LogLevel.Information, "health check: no longer checking {Backend}")]
    public static partial void Untracked(this ILogger log, string backend);

    [LoggerMessage(527, LogLevel.Error, "health check: the {Type} check of {Backend} threw (counted as a Protocol failure)")]
    public static partial void CheckThrew(this ILogger log, Exception e, string type, string backend);

    [LoggerMessage(528, LogLevel.Error, "health check: a Changed handler threw")]
    public static partial void HandlerThrew(this ILogger log, Exception e);
}
