using Microsoft.Extensions.Logging;

namespace Appliance.Balancer;

/// <summary>Every log line of the balancer, source-generated.</summary>
static partial class BalancerLog
{
    [LoggerMessage(1, LogLevel.Information, "{Instance}: {From} -> {To}: {Reason}")]
    public static partial void Transition(this ILogger log, string instance, string from, string to, string reason);

    [LoggerMessage(2, LogLevel.Debug, "{Instance}: dropped a datagram ({Reason}): {Detail}")]
    public static partial void Dropped(this ILogger log, string instance, string reason, string detail);

    [LoggerMessage(3, LogLevel.Information, "{Message}")]
    public static partial void Info(this ILogger log, string message);

    [LoggerMessage(4, LogLevel.Warning, "{Message}")]
    public static partial void Warn(this ILogger log, string message);

    [LoggerMessage(5, LogLevel.Error, "{Message}")]
    public static partial void Error(this ILogger log, string message);
}
