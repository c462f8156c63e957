using System.Text.Json;
using System.Text.Json.Nodes;
using Appliance.Cli.CommandLine;
using Appliance.Cli.Model;
using Appliance.Cli.Rest;

namespace Appliance.Cli.Commands;

/// <summary>
/// <c>pause</c> / <c>resume</c> (ctl.py's <c>toggle_pause</c>): <c>PATCH /config {"pause": true}</c>,
/// or <c>{"pause": null}</c> to resume, to the first member whose API answers, leader first. With
/// <c>--wait</c>, waits until every member that was there reports the new state in its member key.
/// </summary>
internal static class PauseCommand
{
    public static async Task<int> RunAsync(CtlContext ctx, bool pause, CancellationToken ct)
    {
        var (snapshot, view) = await ctx.LoadAsync(ct);
        if (view.Paused == pause)
            throw CtlException.Failure($"Cluster is {(pause ? "already" : "not")} paused");
        var verb = pause ? "pause" : "resume";
        var body = new JsonObject { ["pause"] = pause ? true : null };
        foreach (var member in view.LeaderFirst())
        {
            ApiResponse r;
            try
            {
                r = await ctx.Api.SendAsync(member, HttpMethod.Patch, "config", body, ct);
            }
            catch (ApiUnreachableException e)
            {
                await Console.Error.WriteLineAsync($"{e.Message}; trying the next member");
                continue;
            }
            if (r.Status != 200)
                throw CtlException.Failure($"Failed: {verb} cluster management on {member.Name} (PATCH {PatroniApi.UrlOf(member, "config")}): status code={r.Status}, ({r.Body.Trim()})");
            if (ctx.Args.Flag("wait")) return await WaitAppliedAsync(ctx, pause, snapshot.Members.Select(m => m.Name).ToHashSet(), ct);
            ctx.Out.WriteLine($"Success: cluster management is {(pause ? "paused" : "resumed")}");
            return 0;
        }
        throw CtlException.Failure("Can not find accessible cluster member: no member's REST API answered");
    }

    private static async Task<int> WaitAppliedAsync(CtlContext ctx, bool pause, HashSet<string> names, CancellationToken ct)
    {
        ctx.Out.WriteLine($"'{(pause ? "pause" : "resume")}' request sent, waiting until it is recognized by all nodes");
        await ctx.Out.FlushAsync(ct);
        var config = await ctx.EtcdAsync("read the config key", t => ctx.Admin.GetAsync(ctx.Admin.Keys.Config, t), ct);
        var loopWait = 10;
        if (config is not null)
        {
            try
            {
                using var doc = JsonDocument.Parse(config.Value);
                if (doc.RootElement.TryGetProperty("loop_wait", out var lw) && lw.TryGetInt32(out var v)) loopWait = v;
            }
            catch (JsonException) { }
        }
        var deadline = ctx.Time.GetUtcNow() + TimeSpan.FromSeconds(2 * loopWait + 5);
        List<string> remaining;
        while (true)
        {
            var keys = await ctx.EtcdAsync("read the member keys", t => ctx.Admin.GetPrefixAsync(ctx.Admin.Keys.Members, t), ct);
            remaining = [.. keys.Select(k => (Name: ctx.Admin.Keys.MemberNameOf(k.Key), k.Value))
                .Where(k => k.Name is not null && names.Contains(k.Name) && ReportsPause(k.Value) != pause)
                .Select(k => k.Name!)];
            if (remaining.Count == 0) break;
            if (ctx.Time.GetUtcNow() > deadline)
                throw CtlException.Failure($"{string.Join(", ", remaining)} didn't recognize the {(pause ? "pause" : "resume")} after {2 * loopWait + 5} seconds");
            await Task.Delay(TimeSpan.FromSeconds(1), ctx.Time, ct);
        }
        ctx.Out.WriteLine($"Success: cluster management is {(pause ? "paused" : "resumed")}");
        return 0;
    }

    /// <summary>The member key's <c>pause</c> (Patroni writes <c>"pause": true</c> while paused, nothing otherwise).</summary>
    private static bool ReportsPause(string memberJson)
    {
        try
        {
            using var doc = JsonDocument.Parse(memberJson);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("pause", out var p) && p.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
