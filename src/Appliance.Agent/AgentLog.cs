using Microsoft.Extensions.Logging;

namespace Appliance.Agent;

/// <summary>Every log line of the agent, source-generated (no boxing, no formatting when the level is off).</summary>
static partial class AgentLog
{
    [LoggerMessage(1, LogLevel.Information, "{Decision}")]
    public static partial void Decided(this ILogger log, string decision);

    [LoggerMessage(2, LogLevel.Warning, "{Action} failed: {Error}")]
    public static partial void ActionFailed(this ILogger log, string action, string error);

    [LoggerMessage(3, LogLevel.Information, "{Action} finished in {Seconds:0.0}s")]
    public static partial void ActionDone(this ILogger log, string action, double seconds);

    [LoggerMessage(4, LogLevel.Warning, "etcd: {Error}")]
    public static partial void StoreError(this ILogger log, string error);

    [LoggerMessage(5, LogLevel.Information, "{Message}")]
    public static partial void Info(this ILogger log, string message);

    [LoggerMessage(6, LogLevel.Warning, "{Message}")]
    public static partial void Warn(this ILogger log, string message);

    [LoggerMessage(7, LogLevel.Debug, "{Decision}")]
    public static partial void DecidedQuiet(this ILogger log, string decision);
}
