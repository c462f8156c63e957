using System.Text.Json;

namespace Appliance.Agent.Tests;

/// <summary>Captured answers of a real Patroni 3.0.2 (status line, headers, blank line, body).</summary>
static class Golden
{
    public static string Body(string file)
    {
        // HTTP/1.0 framing: the body follows the first empty line (CRLF line ends).
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Golden", file));
        return string.Join('\n', lines.SkipWhile(l => l.Trim().Length > 0).Skip(1)).Trim();
    }

    public static JsonElement Json(string file) => JsonDocument.Parse(Body(file)).RootElement.Clone();
}
