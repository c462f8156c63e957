using Appliance.Lab.NetLab;

namespace Appliance.Bench.Lab;

/// <summary>
/// One column of the lab benchmark: a stack with a profile, measured on a lab of its own. The
/// reference stack runs the seed's timings and the fastest Patroni accepts; ours runs the seed's (the
/// same knobs, like for like) and its production profile.
/// </summary>
public sealed record LabConfiguration(string Stack, LabProfile Profile)
{
    /// <summary>"appliance/production", as <c>--only</c> takes it.</summary>
    public string Name => $"{Stack}/{Profile.Name}";

    public static IReadOnlyList<LabConfiguration> All { get; } =
    [
        new("appliance", LabProfile.Production),
        new("appliance", LabProfile.Seed),
        new("reference", LabProfile.Seed),
        new("reference", LabProfile.PatroniFastest),
    ];

    /// <summary>Every configuration, or those <paramref name="only"/> names (comma-separated), in the order of <see cref="All"/>.</summary>
    public static IReadOnlyList<LabConfiguration> Parse(string? only)
    {
        if (only is null) return All;
        var names = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var n in names)
            if (All.All(c => c.Name != n))
                throw new ArgumentException($"unknown configuration '{n}': one of {string.Join(", ", All.Select(c => c.Name))}");
        return All.Where(c => names.Contains(c.Name)).ToList();
    }
}
