using System.Net.Http;
using System.Text;
using Appliance.Lab.NetLab;

namespace Appliance.Bench.Lab;

/// <summary>
/// A fault the lab benchmark repeats every round, the way the scenario tests break the lab
/// (tests/Appliance.Scenario.Tests): what it does (returning what it did, for the progress line),
/// what the lab looks like once clients can write again, the repair that brings the node back (none
/// when the stack heals by itself), and the table rows it fills from a <see cref="FaultOutcome"/>.
/// </summary>
public sealed record LabScenario(
    string Name,
    Func<FaultRound, Task<string>> Fault,
    Func<FaultRound, LabHealth, bool> Recovered,
    Func<FaultRound, Task>? Repair,
    IReadOnlyList<(Measure Measure, Func<FaultOutcome, double?> Value)> Reports)
{
    static readonly HttpClient Http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(90) };

    /// <summary>The primary's node loses power: every process killed, its cable pulled; then it boots and rejoins.</summary>
    public static LabScenario HostCrash { get; } = new("primary host crash",
        async r =>
        {
            await r.Faults.CrashNodeAsync(r.Leader);
            return $"{r.Leader} crashed";
        },
        (r, h) => h.Leader is { } l && l != r.Leader && h.Primary?.Node == l,
        r => r.Faults.BootNodeAsync(r.Leader),
        [
            (Measure.Seconds("primary host crash: write gap"), o => o.Gap.TotalSeconds),
            (Measure.Count("primary host crash: acknowledged writes lost"), o => o.Lost),
        ]);

    /// <summary>The primary's postmaster gets SIGKILL, its manager runs on: restarting in place and failing over are both fine.</summary>
    public static LabScenario PostgresCrash { get; } = new("primary PostgreSQL crash",
        async r =>
        {
            await r.Faults.KillPostgresAsync(r.Leader);
            return $"{r.Leader}'s postmaster killed";
        },
        (_, h) => h.Leader is { } l && h.Primary?.Node == l,
        null,
        [
            (Measure.Seconds("primary PostgreSQL crash: write gap"), o => o.Gap.TotalSeconds),
            (Measure.Count("primary PostgreSQL crash: acknowledged writes lost"), o => o.Lost),
        ]);

    /// <summary>A planned switchover as an operator asks for it: POST /switchover on the leader's Patroni REST API, any candidate.</summary>
    public static LabScenario Switchover { get; } = new("planned switchover",
        async r =>
        {
            await r.Run.WaitSyncStandbyAsync(TimeSpan.FromMinutes(2), r.Cancel);
            using var response = await Http.PostAsync($"{r.Lab.Probe.ApiUrl(r.Leader)}/switchover",
                new StringContent($"{{\"leader\": \"{r.Leader}\"}}", Encoding.UTF8, "application/json"), r.Cancel);
            var body = (await response.Content.ReadAsStringAsync(r.Cancel)).Trim();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"switchover refused: {(int)response.StatusCode} {body}");
            return $"switchover from {r.Leader} ({(int)response.StatusCode})";
        },
        (r, h) => h.Leader is { } l && l != r.Leader && h.Primary?.Node == l,
        null,
        [
            (Measure.Seconds("planned switchover: write pause"), o => o.Gap.TotalSeconds),
            (Measure.Count("planned switchover: acknowledged writes lost"), o => o.Lost),
            (Measure.Count("planned switchover: failed client operations"), o => o.FailedOperations),
        ]);

    /// <summary>The balancer holding the VIP loses power; the other takes the VIP. Then it boots, and may take the VIP back (preemption).</summary>
    public static LabScenario VrrpMasterCrash { get; } = new("VRRP master crash",
        async r =>
        {
            await r.Faults.CrashNodeAsync(r.VipHolder);
            return $"{r.VipHolder} crashed";
        },
        (r, h) => h.VipHolders is [var v] && v != r.VipHolder && h.Primary is { ReadWrite: true },
        r => r.Faults.BootNodeAsync(r.VipHolder),
        [
            (Measure.Seconds("VRRP master crash: VIP takeover (write gap through the VIP)"), o => o.Gap.TotalSeconds),
            (Measure.Seconds("VRRP master back: write gap when it returns"), o => o.ReturnGap?.TotalSeconds),
        ]);

    public static IReadOnlyList<LabScenario> All { get; } = [HostCrash, PostgresCrash, Switchover, VrrpMasterCrash];
}
