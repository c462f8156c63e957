namespace Appliance.Configuration;

/// <summary>Writes the effective configuration as TOML (what <c>appliance-agent check-config</c> shows).</summary>
public static class ConfigPrinter
{
    /// <summary>What a set secret is shown as.</summary>
    public const string Mask = "********";

    /// <summary>
    /// Every section and key with its value (defaults included), each under a one-line doc comment.
    /// Every password that is set is shown as <see cref="Mask"/>; unset optional keys are written
    /// as comments. The output loads back to the same configuration (passwords aside).
    /// </summary>
    public static string Render(ApplianceConfig config)
    {
        var writer = new TomlWriter();
        writer.Comment($"The effective configuration: every file merged, defaults included, secrets shown as {Mask}.");
        ConfigSchema.Root.Render(config, "", writer);
        return writer.ToString();
    }
}
