using System.Text.Json;
using System.Text.Json.Nodes;
using Appliance.Cli.CommandLine;
using Appliance.Cli.Model;
using Appliance.Cli.Rest;

namespace Appliance.Cli.Commands;

/// <summary>
/// Commands aimed at members (ctl.py's <c>restart</c>, <c>reload</c>, <c>reinit</c>): the named members
/// (all of the <c>--role</c> when none is named, except for reinit), one request to each member's own
/// API, one line per member saying what it answered. Exit 1 when any member failed.
/// </summary>
internal static class MemberCommands
{
    public static async Task<int> RestartAsync(CtlContext ctx, CancellationToken ct)
    {
        var (cluster, members) = await SelectAsync(ctx, "restart", ctx.Args.Value("role") ?? "any", ct);
        var scheduled = ctx.Args.Value("scheduled");
        if (scheduled is null && !ctx.Force)
            scheduled = ctx.Prompter.Prompt($"When should the restart take place (e.g. {Schedule.NextHourExample(ctx.Time)}) ", "now");
        var at = Schedule.Parse(scheduled);
        Confirm(ctx, members, "restart", at is { } a ? Schedule.Iso(a) : null);
        if (ctx.Args.Flag("any")) members = [members[Random.Shared.Next(members.Count)]];

        var version = ctx.Args.Value("pg-version");
        if (version is null && !ctx.Force)
            version = ctx.Prompter.Prompt("Restart if the PostgreSQL version is less than provided (e.g. 9.5.2) ", "");

        var body = new JsonObject();
        if (ctx.Args.Flag("pending")) body["restart_pending"] = true;
        if (!string.IsNullOrEmpty(version))
        {
            if (!System.Text.RegularExpressions.Regex.IsMatch(version, @"^\d+(\.\d+){0,2}$"))
                throw CtlException.UsageError($"--pg-version: '{version}' is not a PostgreSQL version like 15.4");
            body["postgres_version"] = version;
        }
        if (at is { } when)
        {
            if (cluster.Paused) throw CtlException.Failure("Can't schedule restart in the paused state");
            body["schedule"] = Schedule.Iso(when);
        }
        if (ctx.Args.Value("timeout") is { } timeout) body["timeout"] = timeout;

        var failed = false;
        foreach (var m in members)
        {
            // As patronictl: --force replaces a restart already scheduled on the member.
            if (at is not null && ctx.Force && m.ScheduledRestart is not null && !await FlushScheduledAsync(ctx, m, ct))
            {
                failed = true;
                continue;
            }
            var r = await SendAsync(ctx, m, "restart", body, ct);
            switch (r?.Status)
            {
                case null: failed = true; break;
                case 200: ctx.Out.WriteLine($"Success: restart on member {m.Name}"); break;
                case 202: ctx.Out.WriteLine($"Success: restart scheduled on member {m.Name}"); break;
                case 409:
                    ctx.Out.WriteLine($"Failed: another restart is already scheduled on member {m.Name}");
                    failed = true;
                    break;
                default:
                    Failed(ctx, m, "restart", r);
                    failed = true;
                    break;
            }
        }
        return failed ? CtlException.Failed : 0;
    }

    /// <summary><c>DELETE /restart</c>; false (after saying why) when the member refused or did not answer.</summary>
    private static async Task<bool> FlushScheduledAsync(CtlContext ctx, MemberView m, CancellationToken ct)
    {
        try
        {
            var r = await ctx.Api.SendAsync(m, HttpMethod.Delete, "restart", null, ct);
            if (r.Status is 200 or 404) return true;
            ctx.Out.WriteLine($"Failed: flush scheduled restart for member {m.Name}, status code={r.Status}, ({r.Body.Trim()})");
        }
        catch (ApiUnreachableException e)
        {
            ctx.Out.WriteLine($"Failed: flush scheduled restart for member {m.Name}: {e.Message}");
        }
        return false;
    }

    public static async Task<int> ReloadAsync(CtlContext ctx, CancellationToken ct)
    {
        var (_, members) = await SelectAsync(ctx, "reload", ctx.Args.Value("role") ?? "any", ct);
        Confirm(ctx, members, "reload", null);
        var loopWait = await LoopWaitAsync(ctx, ct);
        var failed = false;
        foreach (var m in members)
        {
            var r = await SendAsync(ctx, m, "reload", null, ct);
            switch (r?.Status)
            {
                case null: failed = true; break;
                case 200: ctx.Out.WriteLine($"No changes to apply on member {m.Name}"); break;
                case 202: ctx.Out.WriteLine($"Reload request received for member {m.Name} and will be processed within {loopWait} seconds"); break;
                default:
                    Failed(ctx, m, "reload", r);
                    failed = true;
                    break;
            }
        }
        return failed ? CtlException.Failed : 0;
    }

    public static async Task<int> ReinitAsync(CtlContext ctx, CancellationToken ct)
    {
        if (Names(ctx).Count == 0) throw CtlException.UsageError("reinit needs the member(s) to reinitialize: appliancectl reinit MEMBER...");
        var (_, members) = await SelectAsync(ctx, "reinitialize", "replica", ct);
        Confirm(ctx, members, "reinitialize", null);
        var failed = false;
        var waitOn = new List<MemberView>();
        foreach (var m in members)
        {
            var force = ctx.Force;
            while (true)
            {
                var r = await SendAsync(ctx, m, "reinitialize", new JsonObject { ["force"] = force }, ct);
                if (r is null) { failed = true; break; }
                if (r.Status < 400)
                {
                    ctx.Out.WriteLine($"Success: reinitialize for member {m.Name}");
                    waitOn.Add(m);
                    break;
                }
                Failed(ctx, m, "reinitialize", r);
                if (!force && r.Body.TrimEnd().EndsWith(" already in progress", StringComparison.Ordinal)
                    && ctx.Prompter.Confirm("Do you want to cancel it and reinitialize anyway?"))
                {
                    force = true;
                    continue;
                }
                failed = true;
                break;
            }
        }
        if (ctx.Args.Flag("wait") && waitOn.Count > 0)
        {
            ctx.Out.WriteLine($"Waiting for reinitialize to complete on: {string.Join(", ", waitOn.Select(m => m.Name))}");
            await ctx.Out.FlushAsync(ct);
            while (waitOn.Count > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), ctx.Time, ct);
                foreach (var m in waitOn.ToList())
                {
                    if (await StateAsync(ctx, m, ct) is { } state && state != "creating replica")
                    {
                        ctx.Out.WriteLine($"Reinitialize is completed on: {m.Name} ({state})");
                        waitOn.Remove(m);
                    }
                }
            }
        }
        return failed ? CtlException.Failed : 0;
    }

    /// <summary>The member names on the command line; a first argument that is the cluster's name (patronictl's form) is skipped.</summary>
    private static List<string> Names(CtlContext ctx)
    {
        var names = ctx.Args.Positionals.ToList();
        if (names.Count > 0 && names[0] == ctx.Settings.Scope) names.RemoveAt(0);
        return names;
    }

    /// <summary>ctl.py's <c>get_members</c>: the members of the role, narrowed to the named ones; prints the cluster first.</summary>
    private static async Task<(ClusterView, List<MemberView>)> SelectAsync(CtlContext ctx, string action, string role, CancellationToken ct)
    {
        if (role is not ("leader" or "primary" or "master" or "standby-leader" or "replica" or "standby" or "any"))
            throw CtlException.UsageError($"--role: '{role}' is not one of leader, primary, standby-leader, replica, standby, any");
        var (_, cluster) = await ctx.LoadAsync(ct);
        var ofRole = role switch
        {
            "any" => cluster.Members.ToList(),
            "replica" or "standby" => cluster.Members.Where(m => m.Name != cluster.LeaderName).ToList(),
            "standby-leader" => cluster.Members.Where(m => m.Role == "standby_leader").ToList(),
            "primary" or "master" => cluster.Members.Where(m => m.Role == "leader").ToList(),
            _ => cluster.Members.Where(m => m.IsLeader).ToList(),
        };
        var names = Names(ctx);
        foreach (var n in names)
            if (cluster.Get(n) is null)
                throw CtlException.UsageError($"{n} is not a member of cluster {ctx.Settings.Scope} (members: {string.Join(", ", cluster.Members.Select(m => m.Name))})");
        if (names.Count == 0 && ofRole.Count == 0)
            throw CtlException.Failure($"{ctx.Settings.Scope} cluster doesn't have any members");
        ctx.Out.WriteLine(MemberTable.Pretty(cluster, topology: false));
        var chosen = names.Count == 0 ? ofRole : ofRole.Where(m => names.Contains(m.Name)).ToList();
        if (chosen.Count == 0) throw CtlException.UsageError($"No {role} among provided members ({string.Join(", ", names)}), so nothing to {action}");
        return (cluster, chosen);
    }

    private static void Confirm(CtlContext ctx, List<MemberView> members, string action, string? scheduledAt)
    {
        if (ctx.Force) return;
        var names = string.Join(", ", members.Select(m => m.Name));
        var question = scheduledAt is null
            ? $"Are you sure you want to {action} members {names}?"
            : $"Are you sure you want to schedule {action} of members {names} at {scheduledAt}?";
        if (!ctx.Prompter.Confirm(question)) throw CtlException.Failure($"Aborted {(scheduledAt is null ? "" : "scheduled ")}{action}");
    }

    /// <summary>One POST; null (after saying why) when the member's API did not answer.</summary>
    private static async Task<ApiResponse?> SendAsync(CtlContext ctx, MemberView m, string endpoint, JsonObject? body, CancellationToken ct)
    {
        try
        {
            return await ctx.Api.SendAsync(m, HttpMethod.Post, endpoint, body, ct);
        }
        catch (ApiUnreachableException e)
        {
            ctx.Out.WriteLine($"Failed: {endpoint} for member {m.Name}: {e.Message}");
            return null;
        }
    }

    private static void Failed(CtlContext ctx, MemberView m, string action, ApiResponse r) =>
        ctx.Out.WriteLine($"Failed: {action} for member {m.Name} (POST {PatroniApi.UrlOf(m, action == "reinitialize" ? "reinitialize" : action)}), status code={r.Status}, ({r.Body.Trim()})");

    private static async Task<string?> StateAsync(CtlContext ctx, MemberView m, CancellationToken ct)
    {
        try
        {
            var r = await ctx.Api.SendAsync(m, HttpMethod.Get, "patroni", null, ct);
            using var doc = JsonDocument.Parse(r.Body);
            return doc.RootElement.TryGetProperty("state", out var s) ? s.GetString() : null;
        }
        catch (Exception e) when (e is ApiUnreachableException or JsonException)
        {
            return null;
        }
    }

    private static async Task<string> LoopWaitAsync(CtlContext ctx, CancellationToken ct)
    {
        var (snapshot, _) = await ctx.LoadAsync(ct);
        if (string.IsNullOrEmpty(snapshot.ConfigJson)) return "None";
        try
        {
            using var doc = JsonDocument.Parse(snapshot.ConfigJson);
            return doc.RootElement.TryGetProperty("loop_wait", out var v) ? v.GetRawText() : "None";
        }
        catch (JsonException)
        {
            return "None";
        }
    }
}
