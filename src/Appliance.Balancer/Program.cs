using Appliance.Configuration;

// appliance-balancer: the composition root of the load-balancer node. Everything else is a library.
// So far: the command line and the configuration; the VRRP speaker (raw sockets, rtnetlink, GARP)
// that drives Appliance.Vrrp.VrrpMachine comes next.
const string Version = "0.1.0";

var cli = CommandLine.Parse("appliance-balancer", args);
if (cli.Error is { } usage)
{
    await Console.Error.WriteLineAsync(usage);
    return 2;
}
if (cli.Command == "version")
{
    Console.WriteLine($"appliance-balancer {Version}");
    return 0;
}

var files = ConfigLoader.Resolve(cli.ConfigPath, Environment.GetEnvironmentVariable(ConfigLoader.EnvironmentVariable));
var loaded = ConfigLoader.Load(files, ConfigRole.Balancer);
if (!loaded.IsValid)
{
    foreach (var e in loaded.Errors) await Console.Error.WriteLineAsync(e.ToString());
    await Console.Error.WriteLineAsync($"{loaded.Errors.Count} configuration error(s); nothing was started.");
    return 2;
}
var config = loaded.Config;
if (cli.Command == "check-config")
{
    Console.Write(ConfigPrinter.Render(config));
    return 0;
}

foreach (var instance in config.Vrrp)
    Console.WriteLine($"vrrp instance {instance.Name}: {instance.Interface} vrid {instance.VirtualRouterId} priority {instance.Priority} v{instance.Version}");
await Console.Error.WriteLineAsync("appliance-balancer: the VRRP speaker is not built yet (configuration, codec and state machine only); nothing was started.");
return 1;
