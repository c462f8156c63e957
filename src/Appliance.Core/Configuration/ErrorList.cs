namespace Appliance.Configuration;

/// <summary>Errors collected while loading, reported together and sorted by where they are.</summary>
internal sealed class ErrorList
{
    private readonly List<(SourceLocation At, ConfigError Error)> _errors = [];
    private readonly HashSet<string> _failedKeys = new(StringComparer.Ordinal);

    public int Count => _errors.Count;

    public void Add(SourceLocation at, string key, string message)
    {
        _errors.Add((at, new ConfigError(at.File, at.Line, at.Column, key, message)));
        if (key.Length > 0)
            _failedKeys.Add(key);
    }

    /// <summary>True when <paramref name="key"/> already has an error: rules that combine keys skip it rather than pile a second, misleading error on.</summary>
    public bool HasFailed(string key) => _failedKeys.Contains(key);

    /// <summary>In merge order: by file, then line, then column; errors without a line last in their file. Stable: ties keep the order found.</summary>
    public IReadOnlyList<ConfigError> Sorted() =>
        [.. _errors
            .OrderBy(e => e.At.FileIndex)
            .ThenBy(e => e.At.Line == 0 ? int.MaxValue : e.At.Line)
            .ThenBy(e => e.At.Column)
            .Select(e => e.Error)];
}
