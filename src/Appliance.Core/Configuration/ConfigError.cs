namespace Appliance.Configuration;

/// <summary>
/// One thing wrong with the configuration: where it is and what was expected instead.
/// <see cref="Line"/> and <see cref="Column"/> are 1-based; 0 means the problem has no place in a
/// file (a required key that is absent, a file that cannot be read).
/// </summary>
/// <param name="File">The file the problem is in (for an absent key: the last file read).</param>
/// <param name="Line">1-based line, or 0.</param>
/// <param name="Column">1-based column, or 0.</param>
/// <param name="Key">Dotted key, such as <c>agent.loop_wait</c>; empty for a TOML syntax error.</param>
/// <param name="Message">What was expected and what was found.</param>
public sealed record ConfigError(string File, int Line, int Column, string Key, string Message)
{
    /// <summary><c>file:line:col: key: message</c> (the key part is left out when there is no key), the shape compilers use so editors can jump to it.</summary>
    public override string ToString() =>
        Key.Length == 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}:{Line}:{Column}: {Key}: {Message}";
}
