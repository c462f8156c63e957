using Microsoft.Extensions.Logging;

namespace Appliance.Balancer.Proxy;

/// <summary>The log lines of the proxy's listeners, sessions and data paths, source-generated (ids 500–549).</summary>
static partial class ProxyLog
{
    [LoggerMessage(500, LogLevel.Information, "{Listener}: listening on {EndPoint} ({Workers} accept loops, data path {DataPath})")]
    public static partial void Listening(this ILogger log, string listener, string endPoint, int workers, string dataPath);

    [LoggerMessage(501, LogLevel.Warning, "{Listener}: accept failed: {Error}")]
    public static partial void AcceptFailed(this ILogger log, string listener, string error);

    [LoggerMessage(502, LogLevel.Information, "{Listener}: closed {Client} ({Reason}): {Detail}")]
    public static partial void SessionClosed(this ILogger log, string listener, string client, string reason, string detail);

    [LoggerMessage(503, LogLevel.Debug, "{Listener}: {Client} via {Backend} ended normally ({Detail})")]
    public static partial void SessionEnded(this ILogger log, string listener, string client, string backend, string detail);

    [LoggerMessage(504, LogLevel.Information, "{Listener}: connecting {Client} to {Backend} failed ({Error}); asking the pool again")]
    public static partial void ConnectRetry(this ILogger log, string listener, string client, string backend, string error);

    [LoggerMessage(509, LogLevel.Information, "{Listener}: {Backend} cannot take {Client} now ({Detail}); asking the pool again")]
    public static partial void NotReadyRetry(this ILogger log, string listener, string client, string backend, string detail);

    [LoggerMessage(505, LogLevel.Debug, "{Listener}: cancel request from {Client} forwarded to {Count} servers")]
    public static partial void CancelForwarded(this ILogger log, string listener, string client, int count);

    [LoggerMessage(506, LogLevel.Warning, "data_path = \"{Wanted}\" is not available here ({Why}); using \"{Instead}\"")]
    public static partial void DataPathFallback(this ILogger log, string wanted, string why, string instead);

    [LoggerMessage(511, LogLevel.Debug, "a session stays on the {Path} path: {Why}")]
    public static partial void SockmapSessionFallback(this ILogger log, string path, string why);

    [LoggerMessage(507, LogLevel.Information, "{Listener}: stopped ({Sessions} sessions ended)")]
    public static partial void Stopped(this ILogger log, string listener, int sessions);

    [LoggerMessage(510, LogLevel.Warning, "{Listener}: ended {Sessions} session(s): {Why}")]
    public static partial void SessionsDropped(this ILogger log, string listener, int sessions, string why);

    [LoggerMessage(508, LogLevel.Debug, "{Listener}: forwarding a cancel request to {Backend} failed: {Error}")]
    public static partial void CancelFailed(this ILogger log, string listener, string backend, string error);
}
