using Appliance.Lab;

namespace Appliance.Cli.Tests;

/// <summary>Local clusters with fast timings, as tests/Appliance.Cluster.Tests/ClusterFactory.cs starts them.</summary>
public static class LabFactory
{
    /// <summary>ttl 10, loop_wait 2, retry_timeout 4: the fastest timings that keep loop_wait + 2 x retry_timeout within ttl.</summary>
    public static LabOptions Options(string name) => new()
    {
        Root = Path.Combine(Path.GetTempPath(), $"appl-cli-{name}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}"),
        Agent = AgentCommand.Locate(Repo.Root(AppContext.BaseDirectory), preferPublished: false),
        Scope = $"cli-{name}",
        Ttl = 10,
        LoopWait = 2,
        RetryTimeout = 4,
        PrimaryStartTimeout = 30,
    };

    public static async Task<LocalCluster> StartHealthyAsync(LabOptions options)
    {
        var cluster = await LocalCluster.StartAsync(options);
        try
        {
            await ClusterProgress.WaitHealthyAsync(cluster, TextWriter.Null, TimeSpan.FromMinutes(3), CancellationToken.None);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until exactly one member answers 200 on /primary and returns it.</summary>
    public static Task<LabMember> WaitForPrimaryAsync(this LocalCluster c, string what, TimeSpan deadline, Func<LabMember, bool>? where = null)
        => Appliance.TestKit.Wait.ForAsync(what, async () =>
        {
            var p = await c.PrimaryAsync();
            return p is not null && (where?.Invoke(p) ?? true) ? p : null;
        }, deadline);
}
