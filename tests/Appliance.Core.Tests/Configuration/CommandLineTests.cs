using Appliance.Configuration;

namespace Appliance.Core.Tests.Configuration;

/// <summary>The command line both daemons share.</summary>
public class CommandLineTests
{
    [Fact] public void Defaults_to_run_and_takes_the_config_path()
        => Assert.Equal(new CommandLine("run", "/etc/x", null), CommandLine.Parse("appliance-agent", ["--config", "/etc/x"]));

    [Fact] public void Names_the_program_in_its_errors()
    {
        Assert.Equal("unknown argument 'bogus'\nusage: appliance-balancer [run|check-config|version] [--config PATH]",
            CommandLine.Parse("appliance-balancer", ["bogus"]).Error);
        Assert.StartsWith("--config needs a path", CommandLine.Parse("appliance-agent", ["check-config", "-c"]).Error, StringComparison.Ordinal);
        Assert.Equal("version", CommandLine.Parse("appliance-agent", ["--version"]).Command);
    }
}
