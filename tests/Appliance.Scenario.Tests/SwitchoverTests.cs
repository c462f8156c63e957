using System.Net.Http;
using System.Text;
using Xunit.Abstractions;

namespace Appliance.Scenario.Tests;

/// <summary>A planned switchover under load, asked for as an operator does, on the leader's REST API.</summary>
[Collection(LabCollection.Name)]
public sealed class SwitchoverTests(LabFixture lab, ITestOutputHelper output)
{
    [Fact]
    public async Task Planned_switchover_under_load_moves_writes_without_loss()
    {
        await using var run = await ScenarioRun.StartAsync(lab, "planned switchover", output);
        var old = run.Leader;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        await run.WaitSyncStandbyAsync();
        run.Fault($"POST /switchover to {old}");
        using var response = await http.PostAsync($"{run.Lab.Probe.ApiUrl(old)}/switchover",
            new StringContent($"{{\"leader\": \"{old}\"}}", Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"switchover refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        await run.WaitAsync("a new leader takes writes through the VIP", h => h.Leader is { } l && l != old && h.Primary?.Node == l);
        await run.WaitAckedAsync("writes acknowledged again");
        var result = await run.FinishAsync();
        output.WriteLine($"scenario planned switchover: write pause {result.LongestWriteGap?.Duration.TotalSeconds:0.000} s");
    }
}
