using System.Collections.Concurrent;
using Appliance.Balancer.Proxy.Checks;
using Appliance.Configuration;
using Appliance.TestKit;

namespace Appliance.Proxy.Tests.Checks;

/// <summary>
/// The check loops, on real sockets with short intervals: HAProxy's rise/fall, Changed, CheckNow, fast_inter,
/// and Track starting and stopping loops. Conditions are waited on with generous deadlines; intervals that
/// must not elapse are an hour long.
/// </summary>
public sealed class HealthChecksTests
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    static HealthChecks Make(LogLines log, TimeSpan inter, TimeSpan? fastInter = null, int rise = 2, int fall = 3, TimeProvider? time = null, IBackendCheck? check = null)
        => new(new ProxyCheckSection { Type = "tcp", Inter = inter, FastInter = fastInter ?? inter, Rise = rise, Fall = fall, Timeout = TimeSpan.FromSeconds(2) },
            check ?? new TcpCheck(TimeSpan.FromSeconds(2), TimeProvider.System), time ?? TimeProvider.System, log);

    /// <summary>The tcp check, counting the checks begun per backend: what a loop did, seen from the loop's side.</summary>
    sealed class CountingCheck : IBackendCheck
    {
        readonly TcpCheck _tcp = new(TimeSpan.FromSeconds(2), TimeProvider.System);
        readonly ConcurrentDictionary<string, int> _begun = new(StringComparer.Ordinal);

        public string Type => _tcp.Type;
        public int Begun(string backend) => _begun.GetValueOrDefault(backend);

        public Task<CheckOutcome> RunAsync(CheckTarget target, CancellationToken ct)
        {
            _begun.AddOrUpdate(target.Backend.Name, 1, (_, n) => n + 1);
            return _tcp.RunAsync(target, ct);
        }
    }

    static long ChecksOf(HealthChecks checks, string backend) => checks.Statuses[backend].Counters.Checks;

    [Fact]
    public async Task A_new_backend_starts_down_comes_up_after_rise_passes_and_goes_down_after_fall_failures()
    {
        // inter is an hour: every check after the first is one CheckNow, so no check is ever in flight while the
        // server closes (one caught half-connected used to fail with a reset, not refused) and counts are exact.
        var log = new LogLines();
        await using var checks = Make(log, Hour, rise: 2, fall: 3);
        var server = ScriptedServer.Closing();
        var changes = new ConcurrentQueue<(bool Up, long Checks, long Refused, long Transitions)>();
        // Changed is raised by the loop once the check is written and counted: the values read there are exact.
        checks.Changed += () =>
        {
            var s = checks.Statuses["db1"];
            changes.Enqueue((s.Up, s.Counters.Checks, s.Counters.Failures(CheckLayer.Refused), s.Counters.Transitions));
        };

        checks.Track([CheckTargets.At(server.Port, name: "db1")]);
        Assert.False(checks.Statuses["db1"].Up);
        await Wait.UntilAsync("the first check, at once", () => ChecksOf(checks, "db1") == 1, Deadline);
        // The counter is written last: at Checks == n the status is check n's.
        Assert.False(checks.Statuses["db1"].Up);
        checks.CheckNow("db1");
        await Wait.UntilAsync("the change to up", () => !changes.IsEmpty, Deadline);
        Assert.Equal((true, 2L, 0L, 1L), changes.Single());
        var up = checks.Statuses["db1"];
        Assert.True(up.Up);
        Assert.True(up.LastOk);
        Assert.Equal(BackendRole.Unknown, up.Role);
        Assert.NotNull(up.LastChange);

        await server.DisposeAsync();
        // fall 3: two refused checks leave it up, the third takes it down.
        foreach (var n in new[] { 3L, 4L })
        {
            checks.CheckNow("db1");
            await Wait.UntilAsync($"check {n}", () => ChecksOf(checks, "db1") == n, Deadline);
            Assert.True(checks.Statuses["db1"].Up);
        }
        checks.CheckNow("db1");
        await Wait.UntilAsync("the change to down", () => changes.Count == 2, Deadline);
        Assert.Equal((false, 5L, 3L, 2L), changes.ToArray()[1]);
        var down = checks.Statuses["db1"];
        Assert.False(down.Up);
        Assert.Equal(CheckLayer.Refused, down.LastLayer);
        Assert.True(down.LastChange > up.LastChange);

        // More failures change nothing and log nothing more: one line per state change.
        foreach (var n in new[] { 6L, 7L, 8L })
        {
            checks.CheckNow("db1");
            await Wait.UntilAsync($"check {n}", () => ChecksOf(checks, "db1") == n, Deadline);
        }
        var after = checks.Statuses["db1"];
        Assert.False(after.Up);
        Assert.Equal(6, after.Counters.Failures(CheckLayer.Refused));
        // Transitions and the log line of check 8 are in before its count is; Changed only ever follows a transition.
        Assert.Equal(2, after.Counters.Transitions);
        Assert.Equal(2, changes.Count);
        Assert.Equal(1, log.Count("db1 is UP"));
        Assert.Equal(1, log.Count("db1 is DOWN"));
        Assert.Contains("Refused", log.Lines.Single(l => l.Contains("db1 is DOWN", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failure_half_way_up_starts_the_climb_again()
    {
        // rise 3: pass, fail, pass, pass is still down (HAProxy drops a down server's counter to 0); one more pass brings it up.
        int fail = 0;
        await using var server = new ScriptedServer(async (s, ct) =>
        {
            var buffer = new byte[1024];
            _ = await s.ReceiveAsync(buffer, System.Net.Sockets.SocketFlags.None, ct);
            byte[] reply = Volatile.Read(ref fail) == 1
                ? [(byte)'E', 0, 0, 0, 15, (byte)'C', .. "57P03"u8, 0, (byte)'M', (byte)'x', 0, 0]
                : [(byte)'R', 0, 0, 0, 8, 0, 0, 0, 3];
            await s.SendAsync(reply, System.Net.Sockets.SocketFlags.None, ct);
            s.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        });
        await using var checks = new HealthChecks(new ProxyCheckSection { Type = "pgsql", Inter = Hour, Rise = 3, Fall = 1 },
            new PgsqlStartupCheck("postgres", "postgres", TimeSpan.FromSeconds(5), TimeProvider.System), TimeProvider.System, new LogLines());
        checks.Track([CheckTargets.At(server.Port, name: "db1")]);
        await Wait.UntilAsync("the first check", () => checks.Statuses["db1"].Counters.Checks == 1, Deadline);
        foreach (var (n, failing) in new[] { (2L, 1), (3L, 0), (4L, 0) })
        {
            Volatile.Write(ref fail, failing);
            checks.CheckNow("db1");
            await Wait.UntilAsync($"check {n}", () => checks.Statuses["db1"].Counters.Checks == n, Deadline);
            Assert.False(checks.Statuses["db1"].Up);
        }
        Assert.Equal(1, checks.Statuses["db1"].Counters.Failures(CheckLayer.Server));
        // Same target: Track keeps the loop and its counter.
        checks.Track([CheckTargets.At(server.Port, name: "db1")]);
        checks.CheckNow("db1");
        await Wait.UntilAsync("check 5", () => checks.Statuses["db1"].Counters.Checks == 5, Deadline);
        Assert.True(checks.Statuses["db1"].Up);
    }

    [Fact]
    public async Task CheckNow_runs_the_next_check_at_once_instead_of_after_inter()
    {
        await using var server = ScriptedServer.Closing();
        await using var checks = Make(new LogLines(), Hour);
        checks.Track([CheckTargets.At(server.Port, name: "db1")]);
        await Wait.UntilAsync("the first check, at once", () => checks.Statuses["db1"].Counters.Checks == 1, Deadline);
        checks.CheckNow("db1");
        await Wait.UntilAsync("a second check", () => checks.Statuses["db1"].Counters.Checks == 2, Deadline);
        checks.CheckNow("nobody");
        // The server counts an accept a moment after the check saw its connect succeed.
        await Wait.UntilAsync("the server saw both checks", () => server.Accepted >= 2, Deadline);
        Assert.Equal(2, ChecksOf(checks, "db1"));
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task Fast_checks_at_fast_inter_and_back_at_inter_when_it_ends()
    {
        // The loop's waits are timers the test sees and ends: which interval each wait is, exactly, with no race
        // between the wait that began under fast and the test's reading of the count.
        var timers = new ManualTimers();
        TimeSpan fastInter = TimeSpan.FromMilliseconds(20);
        await using var server = ScriptedServer.Closing();
        await using var checks = Make(new LogLines(), Hour, fastInter: fastInter, time: timers);
        checks.Track([CheckTargets.At(server.Port, name: "db1")]);
        await Wait.UntilAsync("the first check, then a wait of inter",
            () => ChecksOf(checks, "db1") == 1 && timers.Pending.SequenceEqual([Hour]), Deadline);

        // Turning fast on cuts the slow wait: a check now, then waits of fast_inter.
        checks.Fast = true;
        Assert.True(checks.Fast);
        await Wait.UntilAsync("a check at once, then a wait of fast_inter",
            () => ChecksOf(checks, "db1") == 2 && timers.Pending.SequenceEqual([fastInter]), Deadline);
        for (long n = 3; n <= 6; n++)
        {
            timers.Fire(fastInter);
            await Wait.UntilAsync($"check {n}, then a wait of fast_inter",
                () => ChecksOf(checks, "db1") == n && timers.Pending.SequenceEqual([fastInter]), Deadline);
        }

        // Fast off: the wait that began under fast is the last fast_inter one; after its check, inter again.
        checks.Fast = false;
        timers.Fire(fastInter);
        await Wait.UntilAsync("check 7, then a wait of inter",
            () => ChecksOf(checks, "db1") == 7 && timers.Pending.SequenceEqual([Hour]), Deadline);
        checks.CheckNow("db1");
        await Wait.UntilAsync("one more check on demand, then a wait of inter",
            () => ChecksOf(checks, "db1") == 8 && timers.Pending.SequenceEqual([Hour]), Deadline);
    }

    [Fact]
    public async Task Track_stops_the_loop_of_a_backend_that_is_gone_and_keeps_the_others()
    {
        await using var a = ScriptedServer.Closing();
        await using var b = ScriptedServer.Closing();
        var counting = new CountingCheck();
        await using var checks = Make(new LogLines(), TimeSpan.FromMilliseconds(20), check: counting);
        checks.Track([CheckTargets.At(a.Port, name: "a"), CheckTargets.At(b.Port, name: "b")]);
        await Wait.UntilAsync("both checked twice", () => checks.Statuses.Values.All(s => s.Counters.Checks >= 2), Deadline);

        checks.Track([CheckTargets.At(b.Port, name: "b")]);
        Assert.Equal(["b"], checks.Statuses.Keys);
        await Wait.UntilAsync("a's loop ended", () => checks.RunningLoops == 1, Deadline);
        // Its loop has ended, so no check of a is running or will begin.
        int aBegun = counting.Begun("a");
        // Every connection a's checks opened reached a (the last may still be in a's accept queue).
        await Wait.UntilAsync("a accepted what its checks opened", () => a.Accepted >= aBegun - 1, Deadline);
        long bChecks = ChecksOf(checks, "b");
        // b's own checks are the clock: five more of them, and a got no check and no connection meanwhile.
        await Wait.UntilAsync("five more checks of b", () => ChecksOf(checks, "b") >= bChecks + 5, Deadline);
        Assert.Equal(aBegun, counting.Begun("a"));
        Assert.True(a.Accepted <= aBegun, $"a accepted {a.Accepted} connections, its checks began {aBegun}");
    }

    [Fact]
    public async Task Track_with_a_new_address_for_a_name_restarts_its_checks_from_down()
    {
        await using var first = ScriptedServer.Closing();
        await using var second = ScriptedServer.Closing();
        await using var checks = Make(new LogLines(), TimeSpan.FromMilliseconds(20), rise: 2);
        checks.Track([CheckTargets.At(first.Port, name: "db1")]);
        await Wait.UntilAsync("db1 up at its first address", () => checks.Statuses["db1"].Up, Deadline);

        checks.Track([CheckTargets.At(second.Port, name: "db1")]);
        Assert.False(checks.Statuses["db1"].Up);
        await Wait.UntilAsync("db1 up at its new address", () => checks.Statuses["db1"].Up, Deadline);
        // The server counts an accept a moment after the check saw its connect succeed.
        await Wait.UntilAsync("the new address saw both checks", () => second.Accepted >= 2, Deadline);
    }

    [Fact]
    public async Task A_throwing_Changed_handler_is_logged_and_the_checks_go_on()
    {
        var log = new LogLines();
        await using var server = ScriptedServer.Closing();
        await using var checks = Make(log, TimeSpan.FromMilliseconds(20), rise: 1);
        checks.Changed += () => throw new InvalidOperationException("a subscriber's bug");
        checks.Track([CheckTargets.At(server.Port, name: "db1")]);
        await Wait.UntilAsync("db1 up and checked on", () => checks.Statuses["db1"] is { Up: true, Counters.Checks: >= 4 }, Deadline);
        Assert.Equal(1, log.Count("a Changed handler threw"));
    }
}
