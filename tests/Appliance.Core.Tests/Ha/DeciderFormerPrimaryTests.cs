using Appliance.Cluster;
using Appliance.Ha;

namespace Appliance.Core.Tests.Ha;

/// <summary>
/// A running primary that finds the leader key free (its agent stalled, or was restarted) may take it back only
/// if nobody led since: the lab lost 54 acknowledged rows when a thawed former primary took the key on timeline 1
/// after its synchronous standby had led timeline 2 (issue "The HA core, proven").
/// </summary>
public partial class DeciderTests
{
    static readonly string EndedTimeline1 = HistoryParser.Append(null, 1, 100, Now, "db2");

    [Fact]
    public void A_primary_on_a_timeline_the_history_says_ended_does_not_take_the_free_key()
    {
        var c = Cluster(leader: null, members: [M("db1", "master"), M("db3", tl: 2)]) with { HistoryJson = EndedTimeline1 };
        Expect(Decide(c, Primary), HaActionKind.Demote, "timeline 1");
    }

    [Fact]
    public void In_synchronous_mode_a_primary_the_sync_key_does_not_name_does_not_take_the_free_key()
    {
        var c = Cluster(leader: null, members: [M("db1", "master"), M("db3")]) with
        {
            ConfigJson = """{"synchronous_mode": true}""",
            SyncJson = SyncState.ToJson("db2", ["db3"]),
            SyncVersion = 5,
        };
        Expect(Decide(c, Primary), HaActionKind.Demote, "sync key");
    }

    [Fact]
    public void A_primary_that_led_last_takes_its_free_key_back()
    {
        var c = Cluster(leader: null, members: [M("db1", "master"), M("db3")]) with
        {
            ConfigJson = """{"synchronous_mode": true}""",
            SyncJson = SyncState.ToJson("db1", ["db3"]),
            SyncVersion = 5,
        };
        Expect(Decide(c, Primary), HaActionKind.AcquireAsPrimary, "taking the key");
    }

    [Fact]
    public void A_peer_ahead_in_WAL_on_an_older_timeline_does_not_block_the_race()
    {
        var c = Cluster(leader: null, members: [M("db1", tl: 2), M("db2", "master"), M("db3")]) with { HistoryJson = EndedTimeline1 };
        var mine = Replica with { Timeline = 2, WalPosition = 200 };
        var diverged = new PeerStatus("db3", true, true, 5000, false, 1, Timeline: 1);
        Expect(Decide(c, mine, peers: diverged), HaActionKind.AcquireAndPromote, "most advanced");
    }
}
