using Appliance.Cluster;
using Appliance.TestKit;

namespace Appliance.Etcd.Tests;

/// <summary>The store's contract (IClusterStore's doc comments) against a real etcd. Each test takes its own scope.</summary>
public sealed class EtcdClusterStoreTests(EtcdTestCluster etcd) : IClassFixture<EtcdTestCluster>, IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    // No test may hang: every store call is bounded by this.
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(90));
    private CancellationToken Ct => _cts.Token;

    public void Dispose() => _cts.Dispose();

    private static MemberData Data(string name, string role = "replica") => new()
    {
        ConnUrl = $"postgres://127.0.0.1:5432/{name}",
        ApiUrl = $"http://127.0.0.1:8008/patroni",
        State = "running",
        Role = role,
        Version = "3.0.2",
    };

    [Fact]
    public async Task Two_nodes_racing_for_the_leader_key_exactly_one_wins()
    {
        for (var round = 0; round < 25; round++)
        {
            var scope = EtcdTestCluster.NewScope();
            await using var a = etcd.Store(scope, "a");
            await using var b = etcd.Store(scope, "b");
            var results = await Task.WhenAll(a.TryAcquireLeaderAsync(Ct), b.TryAcquireLeaderAsync(Ct));

            Assert.Single(results, r => r);
            var winner = results[0] ? "a" : "b";
            Assert.Equal(winner, await etcd.GetAsync($"/service/{scope}/leader"));
            // The loser's later attempt fails too: create-if-absent, never overwrite.
            Assert.False(await (results[0] ? b : a).TryAcquireLeaderAsync(Ct));
            Assert.Equal(winner, await etcd.GetAsync($"/service/{scope}/leader"));
        }
    }

    [Fact]
    public async Task Renew_holds_while_the_key_is_ours_and_fails_once_another_node_took_it()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await using var b = etcd.Store(scope, "b");
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        Assert.True(await a.RenewLeaderAsync(Ct));

        await etcd.DeleteAsync($"/service/{scope}/leader");
        Assert.True(await b.TryAcquireLeaderAsync(Ct));

        Assert.False(await a.RenewLeaderAsync(Ct));
        Assert.True(await b.RenewLeaderAsync(Ct));
        Assert.Equal("b", (await a.LoadAsync(Ct)).Leader?.Name);
    }

    [Fact]
    public async Task Renew_fails_when_the_key_names_us_but_hangs_on_another_lease()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        // Somebody (an operator, a stale node with the same name) rewrote the key without our lease.
        await etcd.PutAsync($"/service/{scope}/leader", "a");

        Assert.False(await a.RenewLeaderAsync(Ct));
    }

    [Fact]
    public async Task A_restarted_agent_takes_over_its_own_key_only_if_it_is_unchanged()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var before = etcd.Store(scope, "a");
        Assert.True(await before.TryAcquireLeaderAsync(Ct));
        // The agent restarts: a new store, a new lease; the key still hangs on the old one.
        await using var after = etcd.Store(scope, "a");
        await after.TouchMemberAsync(Data("a", "master"), Ct);
        var seen = (await after.LoadAsync(Ct)).Leader!;
        Assert.NotEqual(after.LeaseId, seen.LeaseId);
        Assert.False(await after.RenewLeaderAsync(Ct));

        Assert.False(await after.TakeOverLeaderAsync(seen with { ModRevision = seen.ModRevision - 1 }, Ct));
        Assert.True(await after.TakeOverLeaderAsync(seen, Ct));
        Assert.Equal(after.LeaseId, await etcd.LeaseOfAsync($"/service/{scope}/leader"));
        Assert.True(await after.RenewLeaderAsync(Ct));
        // The same take-over repeated (an attempt given up on was applied after all) finds the key on
        // its own lease: it is this store's, and says so.
        Assert.True(await after.TakeOverLeaderAsync(seen, Ct));
        // What was seen is stale for anyone else: another restart's take-over with it fails.
        await using var again = etcd.Store(scope, "a");
        await again.TouchMemberAsync(Data("a", "master"), Ct);
        Assert.False(await again.TakeOverLeaderAsync(seen, Ct));
        Assert.Equal(after.LeaseId, await etcd.LeaseOfAsync($"/service/{scope}/leader"));
    }

    [Fact]
    public async Task A_bootstrap_claim_dies_with_the_claimants_lease()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a", ttl: 5);
        Assert.True(await a.TryStartInitializeAsync(Ct));
        Assert.Equal(a.LeaseId, await etcd.LeaseOfAsync($"/service/{scope}/initialize"));
        Assert.True(await a.CompleteInitializeAsync("42", Ct));
        Assert.Equal(0, await etcd.LeaseOfAsync($"/service/{scope}/initialize"));
    }

    [Fact]
    public async Task A_bootstrap_and_a_member_refresh_at_once_share_one_lease()
    {
        // The agent's first cycle: the loop publishes its member key while the bootstrap claims the cluster.
        for (var round = 0; round < 20; round++)
        {
            var scope = EtcdTestCluster.NewScope();
            await using var a = etcd.Store(scope, "a");
            await Task.WhenAll(a.TouchMemberAsync(Data("a"), Ct), a.TryStartInitializeAsync(Ct));
            Assert.Equal(a.LeaseId, await etcd.LeaseOfAsync($"/service/{scope}/members/a"));
            Assert.True(await a.CompleteInitializeAsync("42", Ct), $"round {round}: the claim hangs on the store's one lease");
        }
    }

    [Fact]
    public async Task Only_the_leader_writes_the_sync_key_and_only_over_the_version_it_saw()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await using var b = etcd.Store(scope, "b");
        Assert.True(await a.TryAcquireLeaderAsync(Ct));

        Assert.Null(await b.WriteSyncAsync(SyncState.ToJson("b", []), 0, Ct));
        var v1 = await a.WriteSyncAsync(SyncState.ToJson("a", ["b"]), 0, Ct);
        Assert.NotNull(v1);
        var seen = await b.LoadAsync(Ct);
        Assert.Equal(v1, seen.SyncVersion);
        Assert.Equal(["b"], seen.Sync.Members.ToArray());

        Assert.Null(await a.WriteSyncAsync(SyncState.ToJson("a", []), 0, Ct));
        Assert.NotNull(await a.WriteSyncAsync(SyncState.ToJson("a", []), v1!.Value, Ct));
        Assert.False(await a.DeleteSyncAsync(v1.Value, Ct));
        var v2 = (await a.LoadAsync(Ct)).SyncVersion;
        Assert.True(await a.DeleteSyncAsync(v2, Ct));
        Assert.True((await a.LoadAsync(Ct)).Sync.IsEmpty);
        // The same delete again (a repeat of an attempt that was applied but not answered): gone, as asked.
        Assert.True(await a.DeleteSyncAsync(v2, Ct));
    }

    [Fact]
    public async Task Renew_without_a_lease_is_false()
    {
        await using var a = etcd.Store(EtcdTestCluster.NewScope(), "a");
        Assert.False(await a.RenewLeaderAsync(Ct));
    }

    [Fact]
    public async Task When_a_node_stops_renewing_its_lease_expires_and_takes_leader_and_member_keys()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a", ttl: 5);
        await using var b = etcd.Store(scope, "b");
        await a.TouchMemberAsync(Data("a", "master"), Ct);
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        var first = a.LeaseId;
        var s = await b.LoadAsync(Ct);
        Assert.Equal("a", s.Leader?.Name);
        Assert.Equal(first, s.Leader?.LeaseId);
        Assert.NotNull(s.GetMember("a"));

        // a stops renewing.
        await Wait.UntilAsync("a's leader and member keys are gone", async () =>
        {
            var now = await b.LoadAsync(Ct);
            return now.Leader is null && now.GetMember("a") is null;
        }, Deadline);

        // a finds out: renewal fails; touching its member grants a new lease; it can lead again.
        Assert.False(await a.RenewLeaderAsync(Ct));
        await a.TouchMemberAsync(Data("a"), Ct);
        Assert.NotEqual(0, a.LeaseId);
        Assert.NotEqual(first, a.LeaseId);
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        Assert.True(await a.RenewLeaderAsync(Ct));
        Assert.Equal(a.LeaseId, await etcd.LeaseOfAsync($"/service/{scope}/members/a"));
    }

    [Fact]
    public async Task Renewing_keeps_the_lease_alive_past_its_ttl()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a", ttl: 3);
        await a.TouchMemberAsync(Data("a"), Ct);
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        var lease = a.LeaseId;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        // Renew for twice the TTL (a renewal every 0.5 s is far inside the TTL).
        await Wait.UntilAsync("renewed for 2 x ttl", async () =>
        {
            Assert.True(await a.RenewLeaderAsync(Ct));
            return sw.Elapsed > TimeSpan.FromSeconds(6);
        }, Deadline, TimeSpan.FromMilliseconds(500));
        Assert.Equal(lease, a.LeaseId);
        Assert.Equal("a", await etcd.GetAsync($"/service/{scope}/leader"));
    }

    [Fact]
    public async Task WaitForChange_wakes_on_a_leader_change_and_times_out_without_one()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await using var b = etcd.Store(scope, "b");
        await a.LoadAsync(Ct);
        await Wait.UntilAsync("a's watch is registered", () => a.IsWatching, Deadline);
        while (await a.WaitForChangeAsync(TimeSpan.FromMilliseconds(200), Ct)) { }

        Assert.True(await b.TryAcquireLeaderAsync(Ct));
        Assert.True(await a.WaitForChangeAsync(TimeSpan.FromSeconds(10), Ct));

        // Nothing changed since: a timeout, false.
        Assert.False(await a.WaitForChangeAsync(TimeSpan.FromMilliseconds(500), Ct));

        // A change while nobody waits counts for the next wait.
        Assert.True(await b.ReleaseLeaderAsync(Ct));
        await Wait.UntilAsync("the release is seen", () => a.WaitForChangeAsync(TimeSpan.FromMilliseconds(100), Ct), Deadline);

        // Member refreshes (every node, every cycle) do not wake the loop, as in Patroni.
        await b.TouchMemberAsync(Data("b"), Ct);
        Assert.False(await a.WaitForChangeAsync(TimeSpan.FromMilliseconds(500), Ct));
    }

    [Fact]
    public async Task WaitForChange_wakes_the_leader_when_a_member_arrives_or_leaves_but_not_on_a_refresh()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await using var b = etcd.Store(scope, "b");
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        await a.LoadAsync(Ct);
        await Wait.UntilAsync("a's watch is registered", () => a.IsWatching, Deadline);
        while (await a.WaitForChangeAsync(TimeSpan.FromMilliseconds(200), Ct)) { }

        await b.TouchMemberAsync(Data("b"), Ct);
        Assert.True(await a.WaitForChangeAsync(TimeSpan.FromSeconds(10), Ct));
        await b.TouchMemberAsync(Data("b", "replica") with { State = "running", XlogLocation = 5 }, Ct);
        Assert.False(await a.WaitForChangeAsync(TimeSpan.FromMilliseconds(500), Ct));
        await b.DeleteMemberAsync(Ct);
        Assert.True(await a.WaitForChangeAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task Bootstrap_race_has_one_winner_who_completes_or_abandons()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await using var b = etcd.Store(scope, "b");
        var results = await Task.WhenAll(a.TryStartInitializeAsync(Ct), b.TryStartInitializeAsync(Ct));
        Assert.Single(results, r => r);
        var (winner, loser) = results[0] ? (a, b) : (b, a);
        Assert.Equal("", (await loser.LoadAsync(Ct)).Initialize);
        Assert.False((await loser.LoadAsync(Ct)).IsInitialized);

        // The winner's initdb failed: it gives up; the race is open again.
        Assert.True(await winner.AbandonInitializeAsync(Ct));
        Assert.Null((await loser.LoadAsync(Ct)).Initialize);
        Assert.True(await loser.TryStartInitializeAsync(Ct));
        Assert.False(await winner.TryStartInitializeAsync(Ct));

        Assert.True(await loser.CompleteInitializeAsync("7712490607480592036", Ct));
        Assert.Equal("7712490607480592036", await etcd.GetAsync($"/service/{scope}/initialize"));
        // Done: neither completes again nor abandons a finished bootstrap.
        Assert.False(await winner.CompleteInitializeAsync("1", Ct));
        Assert.False(await winner.AbandonInitializeAsync(Ct));
        Assert.True((await a.LoadAsync(Ct)).IsInitialized);
    }

    [Fact]
    public async Task Release_deletes_only_our_own_leader_key()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await using var b = etcd.Store(scope, "b");
        Assert.False(await a.ReleaseLeaderAsync(Ct));
        Assert.True(await a.TryAcquireLeaderAsync(Ct));

        Assert.False(await b.ReleaseLeaderAsync(Ct));
        Assert.Equal("a", await etcd.GetAsync($"/service/{scope}/leader"));

        Assert.True(await a.ReleaseLeaderAsync(Ct));
        Assert.Null(await etcd.GetAsync($"/service/{scope}/leader"));
        Assert.True(await b.TryAcquireLeaderAsync(Ct));
    }

    [Fact]
    public async Task Load_skips_and_counts_a_garbage_member_value_and_survives_a_garbage_status()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await a.TouchMemberAsync(Data("a"), Ct);
        await etcd.PutAsync($"/service/{scope}/members/bad", "{not json");
        await etcd.PutAsync($"/service/{scope}/members/empty", "");
        await etcd.PutAsync($"/service/{scope}/members/x/nested", "{}");
        await etcd.PutAsync($"/service/{scope}/status", "garbage");

        var s = await a.LoadAsync(Ct);

        Assert.Equal(["a"], s.Members.Select(m => m.Name));
        Assert.Equal(Data("a"), s.GetMember("a")?.Data);
        Assert.Equal(2, a.BadMemberValues);
        Assert.Null(s.LastLsn);
    }

    [Fact]
    public async Task Snapshot_carries_revision_leader_revision_and_lease()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await a.TouchMemberAsync(Data("a", "master"), Ct);
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        await a.WriteStatusAsync(12345, Ct);
        await a.WriteHistoryAsync("[[1,25165984,\"no recovery target specified\",\"2026-11-26T14:43:34.479176+00:00\",\"a\"]]", Ct);

        var s = await a.LoadAsync(Ct);

        Assert.Equal(a.LeaseId, s.Leader?.LeaseId);
        Assert.True(s.Leader!.ModRevision > 0 && s.Leader.ModRevision <= s.Revision);
        Assert.Equal("a", s.LeaderMember?.Name);
        Assert.Equal(12345, s.LastLsn);
        Assert.StartsWith("[[1,25165984,", s.HistoryJson, StringComparison.Ordinal);
        Assert.Null(s.Initialize);
        Assert.Null(s.ConfigJson);
    }

    [Fact]
    public async Task Config_is_created_only_if_absent()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        Assert.True(await a.InitializeConfigAsync("{\"ttl\":30}", Ct));
        Assert.False(await a.InitializeConfigAsync("{\"ttl\":99}", Ct));
        Assert.Equal("{\"ttl\":30}", (await a.LoadAsync(Ct)).ConfigJson);
    }

    [Fact]
    public async Task Member_key_is_deleted_on_request_and_an_unchanged_touch_writes_nothing()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await a.TouchMemberAsync(Data("a"), Ct);
        var s1 = await a.LoadAsync(Ct);
        await a.TouchMemberAsync(Data("a"), Ct);
        Assert.Equal(s1.Revision, (await a.LoadAsync(Ct)).Revision);
        await a.TouchMemberAsync(Data("a") with { State = "stopped" }, Ct);
        Assert.Equal("stopped", (await a.LoadAsync(Ct)).GetMember("a")?.Data.State);

        await a.DeleteMemberAsync(Ct);
        Assert.Null((await a.LoadAsync(Ct)).GetMember("a"));
        // Deleted means written again on the next touch, even with unchanged data.
        await a.TouchMemberAsync(Data("a") with { State = "stopped" }, Ct);
        Assert.NotNull((await a.LoadAsync(Ct)).GetMember("a"));
    }

    [Fact]
    public async Task Revoking_the_lease_on_clean_shutdown_removes_our_keys_at_once()
    {
        var scope = EtcdTestCluster.NewScope();
        await using var a = etcd.Store(scope, "a");
        await a.TouchMemberAsync(Data("a"), Ct);
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        await a.RevokeLeaseAsync(Ct);
        Assert.Empty(await etcd.KeysAsync($"/service/{scope}/"));
        Assert.Equal(0, a.LeaseId);
    }

    [Fact]
    public async Task Dispose_leaves_the_lease_to_expire()
    {
        var scope = EtcdTestCluster.NewScope();
        var a = etcd.Store(scope, "a");
        await a.TouchMemberAsync(Data("a"), Ct);
        Assert.True(await a.TryAcquireLeaderAsync(Ct));
        await a.DisposeAsync();
        Assert.Equal("a", await etcd.GetAsync($"/service/{scope}/leader"));
        Assert.NotNull(await etcd.GetAsync($"/service/{scope}/members/a"));
    }
}
