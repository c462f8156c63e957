using System.Net.Http;
using System.Text;
using Appliance.TestKit;
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
        if (run.Lab.Profile.SynchronousMode)
        {
            // In synchronous mode only the synchronous standby may take over (both stacks answer 412 before there is one).
            var replicas = run.Lab.Databases.Select(d => d.Name).Where(n => n != old).ToList();
            await Wait.UntilAsync("a replica is the synchronous standby (GET /sync answers 200)", async () =>
            {
                foreach (var r in replicas)
                {
                    using var sync = await http.GetAsync($"{run.Lab.Probe.ApiUrl(r)}/sync");
                    if (sync.IsSuccessStatusCode) return true;
                }
                return false;
            }, ScenarioRun.Deadline);
        }
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
