using System.Diagnostics;

namespace Appliance.Balancer.Tracking;

/// <summary>
/// How a configured script line is run: split on white space (no shell, no quoting, as the
/// configuration documents), the first word the program, then the extra arguments.
/// </summary>
public static class ScriptCommand
{
    public static ProcessStartInfo StartInfo(string commandLine, IEnumerable<string> extra)
    {
        var words = commandLine.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var psi = new ProcessStartInfo(words.Length > 0 ? words[0] : commandLine) { UseShellExecute = false };
        foreach (var w in words.Skip(1)) psi.ArgumentList.Add(w);
        foreach (var a in extra) psi.ArgumentList.Add(a);
        return psi;
    }
}
