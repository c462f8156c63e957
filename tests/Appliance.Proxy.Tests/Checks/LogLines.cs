using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Appliance.Proxy.Tests.Checks;

/// <summary>Every line logged, to assert what an operator reads (and what never appears: secrets, per-check noise).</summary>
sealed class LogLines : ILogger
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Lines.Enqueue($"{logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}");

    public int Count(string fragment) => Lines.Count(l => l.Contains(fragment, StringComparison.Ordinal));

    public string All => string.Join('\n', Lines);
}
