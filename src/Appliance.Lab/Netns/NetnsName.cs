using System.Globalization;
using System.Text.RegularExpressions;

namespace Appliance.Lab.Netns;

/// <summary>
/// The names this harness gives its namespaces and its working folder: <c>apl-&lt;owner pid&gt;-&lt;4 hex&gt;</c>,
/// then <c>-&lt;node&gt;</c> for a namespace. The owner's full PID is in the name so a later run can tell a
/// leftover of a crashed run (owner dead) from a topology in use (owner alive), and touch nothing else.
/// </summary>
public sealed partial record NetnsName(int OwnerPid, string Tag)
{
    /// <summary>The topology's prefix, e.g. <c>apl-4242-1a2b</c>.</summary>
    public string Prefix => $"apl-{OwnerPid}-{Tag}";

    /// <summary>The namespace of <paramref name="node"/> in this topology.</summary>
    public string Namespace(string node) => $"{Prefix}-{node}";

    /// <summary>A new prefix owned by this process.</summary>
    public static NetnsName New() => new(Environment.ProcessId, Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 2)));

    /// <summary>The owner of a namespace or folder named by this harness; null for every other name.</summary>
    public static NetnsName? Parse(string name)
    {
        var m = Pattern().Match(name);
        return m.Success ? new(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value) : null;
    }

    /// <summary>True while a process with the owner's PID exists (a reused PID keeps a leftover one more run: the safe side).</summary>
    public bool OwnerAlive => Directory.Exists($"/proc/{OwnerPid}");

    // Node names are lower-case letters and digits; the folder has no node part.
    [GeneratedRegex("^apl-([0-9]{1,7})-([0-9a-f]{4})(?:-[a-z0-9]{1,12})?$")]
    private static partial Regex Pattern();
}
