using Appliance.Cli.CommandLine;
using Appliance.Cli.Model;

namespace Appliance.Cli.Commands;

/// <summary><c>history</c>: the <c>history</c> key as a table or <c>--format json</c>.</summary>
internal static class HistoryCommand
{
    public static async Task<int> RunAsync(CtlContext ctx, CancellationToken ct)
    {
        var format = ctx.Args.Value("format") ?? "pretty";
        if (format is not ("pretty" or "json"))
            throw CtlException.UsageError($"--format: '{format}' is not one of pretty, json");
        var (snapshot, _) = await ctx.LoadAsync(ct);
        ctx.Out.WriteLine(format == "json" ? HistoryTable.Json(snapshot.HistoryJson) : HistoryTable.Pretty(snapshot.HistoryJson));
        return 0;
    }
}
