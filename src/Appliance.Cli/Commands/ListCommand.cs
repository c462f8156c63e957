using Appliance.Cli.CommandLine;
using Appliance.Cli.Model;

namespace Appliance.Cli.Commands;

/// <summary>
/// <c>list</c> and <c>topology</c>: the members table (or <c>--format json</c>), once, or every N
/// seconds with <c>-w/--watch N</c>, <c>--interval N</c> or <c>-W</c> (2 s) until Ctrl-C.
/// </summary>
internal static class ListCommand
{
    public static async Task<int> RunAsync(CtlContext ctx, bool topology, CancellationToken ct)
    {
        var format = ctx.Args.Value("format") ?? "pretty";
        if (format is not ("pretty" or "json"))
            throw CtlException.UsageError($"--format: '{format}' is not one of pretty, json");
        var every = ctx.Args.Seconds("watch") ?? ctx.Args.Seconds("interval") ?? (ctx.Args.Flag("W") ? 2 : null);
        var clear = every is not null && !Console.IsOutputRedirected;
        while (true)
        {
            var (_, view) = await ctx.LoadAsync(ct);
            if (clear) ctx.Out.Write("\u001b[H\u001b[2J");
            if (ctx.Args.Flag("timestamp")) ctx.Out.WriteLine(ctx.Timestamp());
            ctx.Out.WriteLine(format == "json" && !topology ? MemberTable.Json(view) : MemberTable.Pretty(view, topology));
            await ctx.Out.FlushAsync(ct);
            if (every is not { } seconds) return 0;
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), ctx.Time, ct);
            }
            catch (OperationCanceledException)
            {
                return 0; // Ctrl-C ends a watch normally
            }
        }
    }
}
