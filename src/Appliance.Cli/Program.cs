using Appliance.Cli.CommandLine;
using Appliance.Cli.Commands;
using Appliance.Cli.Rest;
using Appliance.Cli.Settings;
using Appliance.Configuration;

// appliancectl: the composition root of the operator's command line. Everything else is a library.
// Exit codes: 0 ok, 1 the operation failed, 2 usage or configuration error.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

try
{
    var parsed = ArgParser.Parse(args);
    if (parsed.Command.Name == "version")
    {
        Console.WriteLine($"appliancectl {typeof(ArgParser).Assembly.GetName().Version?.ToString(3) ?? "0.0.0"} (patronictl 3.0.2 compatible)");
        return 0;
    }
    // A positional cluster name overrides the configuration's scope, as in patronictl; --scope too.
    var scope = parsed.Value("scope") ?? (parsed.Command.MemberPositionals ? null : (parsed.Positionals.Count > 0 ? parsed.Positionals[0] : null));
    var settings = SettingsLoader.Load(parsed.Value("config"), Environment.GetEnvironmentVariable(ConfigLoader.EnvironmentVariable), scope, parsed.Value("dcs-url"));

    // Switchover and failover wait on the agent, which polls the result for up to 2 x max(10 s, loop_wait).
    using var api = new PatroniApi(settings.Restapi, TimeSpan.FromSeconds(90));
    var prompter = new Prompter(Console.In, Console.Out, interactive: !Console.IsInputRedirected);
    await using var ctx = new CtlContext(parsed, settings, Console.Out, prompter, api, TimeProvider.System);
    var ct = cancel.Token;
    return parsed.Command.Name switch
    {
        "list" => await ListCommand.RunAsync(ctx, topology: false, ct),
        "topology" => await ListCommand.RunAsync(ctx, topology: true, ct),
        "history" => await HistoryCommand.RunAsync(ctx, ct),
        "show-config" => await ConfigCommands.ShowAsync(ctx, ct),
        "edit-config" => await ConfigCommands.EditAsync(ctx, ct),
        "pause" => await PauseCommand.RunAsync(ctx, pause: true, ct),
        "resume" => await PauseCommand.RunAsync(ctx, pause: false, ct),
        "switchover" => await SwitchoverCommand.RunAsync(ctx, "switchover", ct),
        "failover" => await SwitchoverCommand.RunAsync(ctx, parsed.Value("leader") is null ? "failover" : "switchover", ct),
        "restart" => await MemberCommands.RestartAsync(ctx, ct),
        "reload" => await MemberCommands.ReloadAsync(ctx, ct),
        "reinit" => await MemberCommands.ReinitAsync(ctx, ct),
        _ => throw CtlException.UsageError($"unknown command '{parsed.Command.Name}'"),
    };
}
catch (CtlException e)
{
    Console.Out.Flush();
    (e.ExitCode == 0 ? Console.Out : Console.Error).WriteLine(e.ExitCode == 0 ? e.Message : "Error: " + e.Message);
    return e.ExitCode;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("Interrupted");
    return 130;
}
