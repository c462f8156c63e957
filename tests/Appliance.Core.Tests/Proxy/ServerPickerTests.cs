using System.Net;
using Appliance.Proxy;

namespace Appliance.Core.Tests.Proxy;

/// <summary>How a replica pool spreads clients: by weight, around full servers, and stably by source address.</summary>
public class ServerPickerTests
{
    static PickCandidate C(string name, int weight = 1, long sessions = 0, int maxconn = 0) => new(name, weight, sessions, maxconn);

    static Dictionary<string, int> Count(ServerPicker picker, PickCandidate[] servers, int picks)
    {
        var counts = servers.ToDictionary(s => s.Name, _ => 0);
        for (var i = 0; i < picks; i++) counts[servers[picker.Pick(servers, null)!.Value].Name]++;
        return counts;
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 1, 0)]
    [InlineData(5, 2, 1)]
    public void Round_robin_gives_each_server_its_weight_share(int wa, int wb, int wc)
    {
        var servers = new[] { C("a", wa), C("b", wb), C("c", wc) };
        var counts = Count(new ServerPicker(BalanceAlgorithm.RoundRobin), servers, (wa + wb + wc) * 10);
        Assert.Equal(wa * 10, counts["a"]);
        Assert.Equal(wb * 10, counts["b"]);
        Assert.Equal(wc * 10, counts["c"]);
    }

    [Fact]
    public void Smooth_round_robin_interleaves_rather_than_bursting()
    {
        var servers = new[] { C("a", 2), C("b", 1) };
        var picker = new ServerPicker(BalanceAlgorithm.RoundRobin);
        var order = string.Concat(Enumerable.Range(0, 6).Select(_ => servers[picker.Pick(servers, null)!.Value].Name));
        Assert.Equal("abaaba", order);
    }

    [Theory]
    [InlineData(BalanceAlgorithm.RoundRobin)]
    [InlineData(BalanceAlgorithm.LeastConn)]
    [InlineData(BalanceAlgorithm.Source)]
    public void Full_and_zero_weight_servers_are_skipped_and_none_left_is_null(BalanceAlgorithm algorithm)
    {
        var picker = new ServerPicker(algorithm);
        var servers = new[] { C("a", 1, sessions: 2, maxconn: 2), C("b", 0), C("c", 1, sessions: 5, maxconn: 10) };
        for (var i = 0; i < 20; i++) Assert.Equal(2, picker.Pick(servers, IPAddress.Parse($"10.0.0.{i}")));

        Assert.Null(picker.Pick([C("a", 1, sessions: 2, maxconn: 2), C("b", 0)], IPAddress.Loopback));
        Assert.Null(picker.Pick([], IPAddress.Loopback));
    }

    [Fact]
    public void Least_connections_relative_to_weight()
    {
        var picker = new ServerPicker(BalanceAlgorithm.LeastConn);
        // b has twice the weight: 3 sessions on it weigh less than 2 on a.
        Assert.Equal(1, picker.Pick([C("a", 1, sessions: 2), C("b", 2, sessions: 3)], null));
        Assert.Equal(0, picker.Pick([C("a", 1, sessions: 1), C("b", 2, sessions: 3)], null));
    }

    [Fact]
    public void Least_connections_ties_go_round_robin()
    {
        var picker = new ServerPicker(BalanceAlgorithm.LeastConn);
        var servers = new[] { C("a"), C("b"), C("c") };
        var picked = Enumerable.Range(0, 3).Select(_ => picker.Pick(servers, null)!.Value).ToHashSet();
        Assert.Equal([0, 1, 2], picked.Order());
    }

    [Fact]
    public void Least_connections_filling_up_spreads_evenly()
    {
        var picker = new ServerPicker(BalanceAlgorithm.LeastConn);
        var sessions = new long[3];
        for (var i = 0; i < 30; i++)
        {
            var servers = new[] { C("a", 1, sessions[0]), C("b", 1, sessions[1]), C("c", 1, sessions[2]) };
            sessions[picker.Pick(servers, null)!.Value]++;
        }
        Assert.Equal([10L, 10L, 10L], sessions);
    }

    [Fact]
    public void Source_keeps_a_client_on_its_server_while_the_list_is_unchanged()
    {
        var servers = new[] { C("a"), C("b", 2), C("c") };
        var picker = new ServerPicker(BalanceAlgorithm.Source);
        var clients = Enumerable.Range(1, 200).Select(i => IPAddress.Parse($"192.168.{i / 100}.{i % 100}")).ToList();
        var first = clients.Select(c => picker.Pick(servers, c)).ToList();
        // Load changes on other servers do not move anyone.
        var loaded = new[] { C("a", 1, sessions: 7), C("b", 2, sessions: 1), C("c", 1, sessions: 3) };
        Assert.Equal(first, clients.Select(c => picker.Pick(loaded, c)).ToList());
        // A fresh picker (another process) agrees: the hash is not randomized.
        Assert.Equal(first, clients.Select(c => new ServerPicker(BalanceAlgorithm.Source).Pick(servers, c)).ToList());
        // Weights are honoured roughly (b holds half the slots).
        var onB = first.Count(i => i == 1);
        Assert.InRange(onB, 70, 130);
        Assert.All(new[] { 0, 2 }, s => Assert.InRange(first.Count(i => i == s), 25, 75));
    }

    [Fact]
    public void Source_sends_a_client_whose_server_is_full_to_another_with_room()
    {
        var picker = new ServerPicker(BalanceAlgorithm.Source);
        var client = IPAddress.Parse("172.16.5.9");
        var servers = new[] { C("a"), C("b"), C("c") };
        var home = picker.Pick(servers, client)!.Value;
        servers[home] = servers[home] with { Sessions = 1, Maxconn = 1 };
        var other = picker.Pick(servers, client);
        Assert.NotNull(other);
        Assert.NotEqual(home, other);
    }

    [Theory]
    [InlineData("roundrobin", BalanceAlgorithm.RoundRobin)]
    [InlineData("leastconn", BalanceAlgorithm.LeastConn)]
    [InlineData("source", BalanceAlgorithm.Source)]
    public void Parses_the_balance_setting(string text, BalanceAlgorithm expected) => Assert.Equal(expected, ServerPicker.Parse(text));

    [Fact]
    public void Rejects_an_unknown_balance() => Assert.Throws<ArgumentException>(() => ServerPicker.Parse("random"));
}
