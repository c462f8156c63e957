using System.Text.Json.Nodes;
using Appliance.Cli.CommandLine;
using Appliance.Cli.Model;
using Appliance.Cli.Rest;

namespace Appliance.Cli.Commands;

/// <summary>
/// <c>switchover</c> and <c>failover</c> (ctl.py's <c>_do_failover_or_switchover</c>): checks the
/// leader and candidate against the cluster, asks for what is missing unless <c>--force</c>, then
/// <c>POST /switchover</c> or <c>POST /failover</c> with <c>{"leader", "candidate", "scheduled_at"}</c>
/// to the leader's API (the candidate's when there is no leader). When that API does not answer, it
/// writes the <c>failover</c> key as patronictl does: <c>{"leader": ..., "member": ..., "scheduled_at": ...}</c>.
/// </summary>
internal static class SwitchoverCommand
{
    public static async Task<int> RunAsync(CtlContext ctx, string action, CancellationToken ct)
    {
        var scope = ctx.Settings.Scope;
        var (_, cluster) = await ctx.LoadAsync(ct);
        ctx.Out.WriteLine("Current cluster topology");
        ctx.Out.WriteLine(MemberTable.Pretty(cluster, topology: false));

        var leader = ctx.Args.Value("leader");
        var candidate = ctx.Args.Value("candidate");
        if (action == "switchover" && cluster.Leader is null)
            throw CtlException.Failure("This cluster has no leader: a switchover needs one (use failover --candidate)");
        if (leader is null)
            leader = ctx.Force || action == "failover" ? cluster.LeaderName : ctx.Prompter.Prompt("Primary", cluster.LeaderName ?? "");
        if (leader is not null && cluster.LeaderName is { } current && current != leader)
            throw CtlException.Failure($"Member {leader} is not the leader of cluster {scope}");

        var candidates = cluster.Members.Where(m => m.Name != leader && !m.NoFailover).Select(m => m.Name).Order(StringComparer.Ordinal).ToList();
        if (candidates.Count == 0) throw CtlException.Failure($"No candidates found to {action} to");
        if (candidate is null && !ctx.Force)
            candidate = ctx.Prompter.Prompt($"Candidate ['{string.Join("', '", candidates)}']", "");
        if (string.IsNullOrEmpty(candidate)) candidate = null;
        if (action == "failover" && candidate is null)
            throw CtlException.UsageError("Failover could be performed only to a specific candidate: pass --candidate");
        if (candidate is not null && candidate == leader)
            throw CtlException.UsageError($"{Title(action)} target and source are the same.");
        if (candidate is not null && !candidates.Contains(candidate))
            throw CtlException.UsageError($"Member {candidate} does not exist in cluster {scope} or may not be promoted (nofailover)");

        DateTimeOffset? scheduledAt = null;
        if (action == "switchover")
        {
            var scheduled = ctx.Args.Value("scheduled");
            if (scheduled is null && !ctx.Force)
                scheduled = ctx.Prompter.Prompt($"When should the switchover take place (e.g. {Schedule.NextHourExample(ctx.Time)} ) ", "now");
            scheduledAt = Schedule.Parse(scheduled);
            if (scheduledAt is not null && cluster.Paused)
                throw CtlException.Failure("Can't schedule switchover in the paused state");
        }
        var scheduledText = scheduledAt is { } at ? Schedule.Iso(at) : null;

        if (!ctx.Force)
        {
            var demote = leader is not null ? ", demoting current leader " + leader : "";
            var question = scheduledText is not null
                ? $"Are you sure you want to schedule {action} of cluster {scope} at {scheduledText}{demote}?"
                : $"Are you sure you want to {action} cluster {scope}{demote}?";
            if (!ctx.Prompter.Confirm(question)) throw CtlException.Failure($"Aborting {(scheduledText is null ? "" : "scheduled ")}{action}");
        }

        var body = new JsonObject { ["leader"] = leader, ["candidate"] = candidate, ["scheduled_at"] = scheduledText };
        var target = cluster.Leader ?? cluster.Get(candidate!);
        try
        {
            if (target is null) throw new ApiUnreachableException("no member to send the request to", new InvalidOperationException());
            var r = await ctx.Api.SendAsync(target, HttpMethod.Post, action, body, ct);
            if (r.Status is not (200 or 202))
                throw CtlException.Failure($"{Title(action)} failed, details: {r.Status}, {r.Body.Trim()} (POST {PatroniApi.UrlOf(target, action)} on {target.Name})");
            ctx.Out.WriteLine($"{ctx.Timestamp()} {r.Body.Trim()}");
        }
        catch (ApiUnreachableException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            ctx.Out.WriteLine($"{ctx.Timestamp()} Could not {action} using the REST API, falling back to etcd");
            var failover = new JsonObject();
            if (leader is not null) failover["leader"] = leader;
            if (candidate is not null) failover["member"] = candidate;
            if (scheduledText is not null) failover["scheduled_at"] = scheduledText;
            var key = await ctx.EtcdAsync("read the failover key", t => ctx.Admin.GetAsync(ctx.Admin.Keys.Failover, t), ct);
            var written = await ctx.EtcdAsync("write the failover key", t => ctx.Admin.CompareAndSetAsync(ctx.Admin.Keys.Failover, key?.ModRevision ?? 0, failover.ToJsonString(), t), ct);
            if (!written) throw CtlException.Failure("the failover key changed while it was being written; run the command again");
        }

        var (_, after) = await ctx.LoadAsync(ct);
        ctx.Out.WriteLine(MemberTable.Pretty(after, topology: false));
        return 0;
    }

    private static string Title(string action) => char.ToUpperInvariant(action[0]) + action[1..];
}
