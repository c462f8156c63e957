using System.Text.Json;
using Appliance.Agent.Ha;
using Appliance.Cluster;
using Appliance.Configuration;
using Appliance.Ha;
using Appliance.Node;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Appliance.Agent.Api;

/// <summary>
/// The unsafe endpoints, with Patroni 3.0.2's bodies, checks, texts and status codes so that patronictl
/// and existing scripts drive them: <c>POST /switchover</c>, <c>POST /failover</c>,
/// <c>DELETE /switchover</c>, <c>PATCH /config</c>, <c>PUT /config</c>, <c>POST /restart</c>,
/// <c>DELETE /restart</c>, <c>POST /reload</c>, <c>POST /reinitialize</c>. Each needs basic auth when configured.
/// A request is only written to etcd (the <c>failover</c> or <c>config</c> key, conditionally); the HA
/// loops of the nodes carry it out.
/// </summary>
public sealed class OperationsApi(
    ApplianceConfig config, IClusterStore store, IPeerClient peers, ActionRunner runner, IPostgresController postgres,
    ProbeCache probe, Callbacks callbacks, RestartScheduler restarts, TimeProvider time)
{
    const int MaxBody = 64 * 1024;
    readonly BasicAuth _auth = new(config.Restapi);

    public void Map(WebApplication app)
    {
        app.MapPost("/switchover", Guarded(ctx => FailoverAsync(ctx, "switchover")));
        app.MapPost("/failover", Guarded(ctx => FailoverAsync(ctx, "failover")));
        app.MapDelete("/switchover", Guarded(DeleteScheduledAsync));
        app.MapMethods("/config", ["PATCH"], Guarded(ctx => ConfigAsync(ctx, patch: true)));
        app.MapPut("/config", Guarded(ctx => ConfigAsync(ctx, patch: false)));
        app.MapPost("/restart", Guarded(RestartAsync));
        app.MapDelete("/restart", Guarded(ctx => restarts.Delete()
            ? TextAsync(ctx, 200, "scheduled restart deleted")
            : TextAsync(ctx, 404, "no restarts are scheduled")));
        app.MapPost("/reload", Guarded(ReloadAsync));
        app.MapPost("/reinitialize", Guarded(ReinitializeAsync));
    }

    /// <summary>
    /// Restarts PostgreSQL in its role, through the HA loop, and answers when it is back; or, with
    /// <c>schedule</c>, keeps the restart for that moment (Patroni's conditions: <c>role</c>,
    /// <c>postgres_version</c>, <c>restart_pending</c>, checked again when it comes).
    /// </summary>
    async Task RestartAsync(HttpContext ctx)
    {
        // An empty body means "restart, no conditions"; a body must be a JSON object.
        var body = ctx.Request.ContentLength is 0 ? null : await ReadJsonAsync(ctx);
        if (ctx.Response.HasStarted) return;
        // Patroni answers this one with its default code, 500.
        if (body is { } b && b.TryGetProperty("schedule", out _) && (await store.LoadAsync(ctx.RequestAborted)).IsPaused)
        {
            await TextAsync(ctx, 500, "Can't schedule restart in the paused state");
            return;
        }
        var (request, code, error) = RestartRequest.Parse(body, time.GetUtcNow());
        if (request is null)
        {
            await TextAsync(ctx, code, error);
            return;
        }
        var pg = await probe.GetAsync(ctx.RequestAborted);
        if (request.Schedule is { } at)
        {
            var scheduled = restarts.TrySchedule(new ScheduledRestart
            {
                Schedule = at, Role = request.Role, PostgresVersion = request.PostgresVersion,
                RestartPending = request.RestartPending, Timeout = request.Timeout, PostmasterStartTime = pg.PostmasterStartTime,
            });
            await (scheduled ? TextAsync(ctx, 202, "Restart scheduled") : TextAsync(ctx, 409, "Another restart is already scheduled"));
            return;
        }
        if (RestartSchedule.UnmetCondition(request.Role, request.PostgresVersion, request.RestartPending, pg) is { } unmet)
        {
            await TextAsync(ctx, 503, $"restart conditions are not satisfied: {unmet}");
            return;
        }
        var running = runner.Request(HaActionKind.Restart);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        limit.CancelAfter(TimeSpan.FromSeconds(config.Agent.PrimaryStartTimeout + 60));
        var failure = await running.Finished.Task.WaitAsync(limit.Token);
        await (failure is null ? TextAsync(ctx, 200, "restarted successfully") : TextAsync(ctx, 503, $"restart failed: {failure}"));
    }

    async Task ReloadAsync(HttpContext ctx)
    {
        var pg = await probe.GetAsync(ctx.RequestAborted);
        if (!pg.Accepting)
        {
            await TextAsync(ctx, 503, "PostgreSQL is not running: nothing to reload");
            return;
        }
        await postgres.ReloadAsync(ctx.RequestAborted);
        callbacks.OnReload(pg.IsPrimary ? "master" : "replica");
        await TextAsync(ctx, 202, "reload scheduled");
    }

    /// <summary>Re-clones a replica from the leader, through the HA loop; answers once it has started.</summary>
    async Task ReinitializeAsync(HttpContext ctx)
    {
        if (ctx.Request.ContentLength is > 0) _ = await ReadJsonAsync(ctx);
        if (ctx.Response.HasStarted) return;
        var request = runner.Request(HaActionKind.Reinitialize);
        var refused = await request.Started.Task.WaitAsync(TimeSpan.FromSeconds(config.Agent.LoopWait + config.Agent.RetryTimeout + 5), ctx.RequestAborted);
        await (refused is null ? TextAsync(ctx, 200, "reinitialize started") : TextAsync(ctx, 503, refused.Contains("in progress", StringComparison.Ordinal) ? "reinitialize already in progress" : refused));
    }

    RequestDelegate Guarded(Func<HttpContext, Task> handler)
        => ctx => _auth.Allows(ctx.Request) ? handler(ctx) : BasicAuth.ChallengeAsync(ctx);

    async Task FailoverAsync(HttpContext ctx, string action)
    {
        var ct = ctx.RequestAborted;
        if (await ReadJsonAsync(ctx) is not { } body) return;
        var leader = Str(body, "leader");
        var candidate = Str(body, "candidate") ?? Str(body, "member");
        var scheduledText = Str(body, "scheduled_at");
        var cluster = await store.LoadAsync(ct);

        string? error = action == "failover" && candidate is null ? "Failover could be performed only to a specific candidate"
            : action == "switchover" && leader is null ? "Switchover could be performed only from a specific leader"
            : null;
        DateTimeOffset? scheduled = null;
        if (error is null && scheduledText is not null)
        {
            if (leader is null) error = $"Scheduled {action} is possible only from a specific leader";
            else if (cluster.IsPaused) error = $"Can't schedule {action} in the paused state";
            else
            {
                var (at, parseCode, parseError) = PatroniSchedule.Parse(scheduledText, action, time.GetUtcNow());
                if (at is null)
                {
                    await TextAsync(ctx, parseCode, parseError);
                    return;
                }
                scheduled = at;
            }
        }
        if (error is null && cluster.IsPaused && candidate is null)
            error = $"{Title(action)} is possible only to a specific candidate in a paused state";
        if (error is not null)
        {
            await TextAsync(ctx, 400, error);
            return;
        }
        if (scheduled is null && await WhyNotPossibleAsync(cluster, leader, candidate, action, ct) is { } why)
        {
            await TextAsync(ctx, 412, why);
            return;
        }

        var request = new FailoverRequest(leader, candidate, scheduled, cluster.FailoverVersion);
        if (!await store.WriteFailoverAsync(request.ToJson(), cluster.FailoverVersion, ct))
        {
            await TextAsync(ctx, 503, $"failed to write {action} key into DCS");
            return;
        }
        if (scheduled is not null)
        {
            await TextAsync(ctx, 202, $"{Title(action)} scheduled");
            return;
        }
        var (code, text) = await PollResultAsync(cluster.Leader?.Name, candidate, action, ct);
        await TextAsync(ctx, code, text);
    }

    /// <summary>Patroni's <c>is_failover_possible</c>: the named leader leads, the candidate exists and answers as a healthy replica.</summary>
    async Task<string?> WhyNotPossibleAsync(ClusterSnapshot cluster, string? leader, string? candidate, string action, CancellationToken ct)
    {
        if (leader is not null && cluster.Leader?.Name != leader) return "leader name does not match";
        bool syncMode = cluster.SyncSettings.Enabled;
        List<Member> members;
        if (candidate is not null)
        {
            // A switchover must not lose commits; a failover to a named node is the operator's explicit choice.
            if (action == "switchover" && syncMode && !cluster.Sync.IsSyncStandby(candidate)) return "candidate name does not match with sync_standby";
            members = cluster.Members.Where(m => m.Name == candidate).ToList();
            if (members.Count == 0) return "candidate does not exists";
        }
        else if (syncMode)
        {
            members = cluster.Members.Where(m => cluster.Sync.IsSyncStandby(m.Name)).ToList();
            if (members.Count == 0) return $"{action} is not possible: can not find sync_standby";
        }
        else
        {
            members = cluster.Members.Where(m => m.Name != cluster.Leader?.Name && !string.IsNullOrEmpty(m.Data.ApiUrl)).ToList();
            if (members.Count == 0) return $"{action} is not possible: cluster does not have members except leader";
        }
        var statuses = await peers.FetchAsync(members, TimeSpan.FromSeconds(3), ct);
        return statuses.Any(p => p.Reachable && p.InRecovery == true && !p.NoFailover) ? null : $"{action} is not possible: no good candidates have been found";
    }

    /// <summary>Waits for the leader key to move (Patroni's <c>poll_failover_result</c>), polling etcd every 100 ms.</summary>
    async Task<(int, string)> PollResultAsync(string? oldLeader, string? candidate, string action, CancellationToken ct)
    {
        var past = action[..^4]; // "switch" / "fail"
        var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(Math.Max(10, config.Agent.LoopWait) * 2);
        while (time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, ct);
            ClusterSnapshot c;
            try { c = await store.LoadAsync(ct); }
            catch (Exception e) when (e is not OperationCanceledException) { continue; }
            if (c.Leader is { } now && now.Name != oldLeader)
                return candidate is null || candidate == now.Name
                    ? (200, $"Successfully {past}ed over to \"{now.Name}\"")
                    : (200, $"{Title(past)}ed over to \"{now.Name}\" instead of \"{candidate}\"");
            if (FailoverRequest.From(c) is null && c.Leader?.Name == oldLeader)
                return (503, $"{Title(action)} failed");
        }
        return (503, $"{Title(action)} status unknown");
    }

    async Task DeleteScheduledAsync(HttpContext ctx)
    {
        var cluster = await store.LoadAsync(ctx.RequestAborted);
        if (FailoverRequest.From(cluster) is not { ScheduledAt: not null } request)
            await TextAsync(ctx, 404, "No switchover is scheduled");
        else if (!await store.ClearFailoverAsync(request.Version, ctx.RequestAborted))
            await TextAsync(ctx, 503, "Failed to delete scheduled switchover");
        else
            await TextAsync(ctx, 200, "Scheduled switchover deleted");
    }

    /// <summary>PATCH merges (a null deletes a key), PUT replaces; both write only over the version they read.</summary>
    async Task ConfigAsync(HttpContext ctx, bool patch)
    {
        if (await ReadJsonAsync(ctx) is not { } body) return;
        var cluster = await store.LoadAsync(ctx.RequestAborted);
        var json = patch ? DynamicConfig.Merge(cluster.ConfigJson, body.GetRawText()) : body.GetRawText();
        if (!await store.WriteConfigAsync(json, cluster.ConfigVersion, ctx.RequestAborted))
        {
            await TextAsync(ctx, 409, "the configuration was changed by someone else meanwhile: read it again and retry");
            return;
        }
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(json, ctx.RequestAborted);
    }

    /// <summary>The request's JSON object, or null after answering 400 with the reason.</summary>
    static async Task<JsonElement?> ReadJsonAsync(HttpContext ctx)
    {
        if (ctx.Request.ContentLength is > MaxBody)
        {
            await TextAsync(ctx, 413, $"the body is larger than {MaxBody} bytes");
            return null;
        }
        try
        {
            using var doc = await JsonDocument.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted);
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc.RootElement.Clone();
            await TextAsync(ctx, 400, "expected a JSON object in the body");
        }
        catch (JsonException e)
        {
            await TextAsync(ctx, 400, $"the body is not valid JSON: {e.Message}");
        }
        return null;
    }

    static string? Str(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;

    static string Title(string s) => char.ToUpperInvariant(s[0]) + s[1..];

    static Task TextAsync(HttpContext ctx, int code, string text)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        return ctx.Response.WriteAsync(text, ctx.RequestAborted);
    }
}
