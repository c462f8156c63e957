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

    static HealthChecks Make(LogLines log, TimeSpan inter, TimeSpan? fastInter = null, int rise = 2, int fall = 3)
        => new(new ProxyCheckSection { Type = "tcp", Inter = inter, FastInter = fastInter ?? inter, Rise = rise, Fall = fall, Timeout = TimeSpan.FromSeconds(2) },
            new TcpCheck(TimeSpan.FromSeconds(2), TimeProvider.System), TimeProvider.System, log);

    [Fact]
    public async Task A_new_backend_starts_down_comes_up_after_rise_passes_and_goes_down_after_fall_failures()
    {
        var log = new LogLines();
        await using var checks = Make(log, TimeSpan.FromMilliseconds(30), rise: 2, fall: 3);
        var server = ScriptedServer.Closing();
        var changes = new ConcurrentQueue<(bool Up, long Checks)>();
        // Changed is raised by the loop right after it wrote the status: the counters there are exact.
        checks.Changed += () => changes.Enqueue((checks.Statuses["db1"].Up, checks.Statuses["db1"].Counters.Checks));

        checks.Track([CheckTargets.At(server.Port, name: "db1")]);
        Assert.False(checks.Statuses["db1"].Up);
        await Wait.UntilAsync("db1 is up", () => checks.Statuses["db1"].Up, Deadline);
        Assert.Equal((true, 2L), changes.Single());
        var up = checks.Statuses["db1"];
        Assert.True(up.LastOk);
        Assert.Equal(BackendRole.Unknown, up.Role);
        Assert.NotNull(up.LastChange);

        await server.DisposeAsync();
        await Wait.UntilAsync("db1 is down", () => !checks.Statuses["db1"].Up, Deadline);
        var down = checks.Statuses["db1"];
        Assert.Equal(2, changes.Count);
        var (wentUp, passed) = changes.ToArray()[1];
        Assert.False(wentUp);
        Assert.Equal(3, down.Counters.Failures(CheckLayer.Refused));
        Assert.True(passed - down.Counters.Failures(CheckLayer.Refused) >= 2);
        Assert.Equal(CheckLayer.Refused, down.LastLayer);
        Assert.Equal(2, down.Counters.Transitions);
        Assert.True(down.LastChange > up.LastChange);

        // More failures change nothing and log nothing more: one line per state change.
        var failures = down.Counters.FailuresTotal;
        await Wait.UntilAsync("three more failed checks", () => checks.Statuses["db1"].Counters.FailuresTotal >= failures + 3, Deadline);
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
        Assert.Equal(2, server.Accepted);
    }

    [Fact]
    public async Task Fast_checks_at_fast_inter_and_back_at_inter_when_it_ends()
    {
        await using var server = ScriptedServer.Closing();
        await using var checks = Make(new LogLines(), Hour, fastInter: TimeSpan.FromMilliseconds(20));
        checks.Track([CheckTargets.At(server.Port, name: "db1")]);
        await Wait.UntilAsync("the first check", () => checks.Statuses["db1"].Counters.Checks == 1, Deadline);
        checks.Fast = true;
        Assert.True(checks.Fast);
        await Wait.UntilAsync("six checks at fast_inter", () => checks.Statuses["db1"].Counters.Checks >= 6, Deadline);
        checks.Fast = false;
        // The wait that began under fast ends within fast_inter; after that the next is an hour away.
        var settled = checks.Statuses["db1"].Counters.Checks;
        await Wait.UntilAsync("the count settles", () =>
        {
            var now = checks.Statuses["db1"].Counters.Checks;
            var same = now == settled;
            settled = now;
            return same;
        }, Deadline);
        checks.CheckNow("db1");
        await Wait.UntilAsync("one more check on demand", () => checks.Statuses["db1"].Counters.Checks == settled + 1, Deadline);
    }

    [Fact]
    public async Task Track_stops_the_loop_of_a_backend_that_is_gone_and_keeps_the_others()
    {
        await using var a = ScriptedServer.Closing();
        await using var b = ScriptedServer.Closing();
        await using var checks = Make(new LogLines(), TimeSpan.FromMilliseconds(20));
        checks.Track([CheckTargets.At(a.Port, name: "a"), CheckTargets.At(b.Port, name: "b")]);
        await Wait.UntilAsync("both checked twice", () => checks.Statuses.Values.All(s => s.Counters.Checks >= 2), Deadline);

        checks.Track([CheckTargets.At(b.Port, name: "b")]);
        Assert.Equal(["b"], checks.Statuses.Keys);
        await Wait.UntilAsync("a's loop ended", () => checks.RunningLoops == 1, Deadline);
        int aSeen = a.Accepted;
        long bChecks = checks.Statuses["b"].Counters.Checks;
        // b's own checks are the clock: five more of them, and a saw no connection meanwhile.
        await Wait.UntilAsync("five more checks of b", () => checks.Statuses["b"].Counters.Checks >= bChecks + 5, Deadline);
        Assert.Equal(aSeen, a.Accepted);
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
        Assert.True(second.Accepted >= 2);
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
