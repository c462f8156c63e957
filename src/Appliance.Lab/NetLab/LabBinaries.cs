namespace Appliance.Lab.NetLab;

/// <summary>
/// The published AOT binaries a lab runs (<c>just publish</c> leaves them in <c>artifacts/bin</c>);
/// <c>APPLIANCE_AGENT</c> and <c>APPLIANCE_BALANCER_BIN</c> override them. A missing binary is an
/// error naming the command that makes it, never a silent fallback.
/// </summary>
public sealed record LabBinaries(string Agent, string Balancer, string Ctl)
{
    public static LabBinaries Locate(string repoRoot)
    {
        var bin = Path.Combine(repoRoot, "artifacts", "bin");
        string Find(string env, string name)
        {
            var path = Environment.GetEnvironmentVariable(env) is { Length: > 0 } e ? e : Path.Combine(bin, name);
            return File.Exists(path) ? path : throw new FileNotFoundException($"{path} is missing: run `npx --yes rust-just publish` first (or set {env})");
        }
        return new(Find("APPLIANCE_AGENT", "appliance-agent"), Find("APPLIANCE_BALANCER_BIN", "appliance-balancer"), Find("APPLIANCE_CTL", "appliancectl"));
    }
}
