using System.Diagnostics.CodeAnalysis;

namespace Appliance.Configuration;

/// <summary>
/// The outcome of loading the configuration: either a valid <see cref="ApplianceConfig"/>, or every
/// error found (never just the first, so an operator fixes a file in one pass).
/// </summary>
public sealed class ConfigResult
{
    private ConfigResult(ApplianceConfig? config, IReadOnlyList<ConfigError> errors, IReadOnlyList<string> files)
    {
        Config = config;
        Errors = errors;
        Files = files;
    }

    /// <summary>The merged, validated configuration; null when there are errors.</summary>
    public ApplianceConfig? Config { get; }

    /// <summary>Every error found, in file order, then line and column order. Empty when valid.</summary>
    public IReadOnlyList<ConfigError> Errors { get; }

    /// <summary>The files read, in merge order (later ones win).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>True when <see cref="Config"/> is set and there are no errors.</summary>
    [MemberNotNullWhen(true, nameof(Config))]
    public bool IsValid => Config is not null;

    internal static ConfigResult Success(ApplianceConfig config, IReadOnlyList<string> files) => new(config, [], files);

    internal static ConfigResult Failure(IReadOnlyList<ConfigError> errors, IReadOnlyList<string> files) => new(null, errors, files);

    /// <summary>"valid" or the errors, one per line.</summary>
    public override string ToString() => IsValid ? "valid" : string.Join('\n', Errors);
}
