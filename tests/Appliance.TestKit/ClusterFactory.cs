using Appliance.Lab;
using Npgsql;

namespace Appliance.TestKit;

/// <summary>Starts local clusters for tests with fast timings, and the SQL and waits the tests share.</summary>
public static class ClusterFactory
{
    /// <summary>ttl 10, loop_wait 2, retry_timeout 4: the fastest timings that keep loop_wait + 2 x retry_timeout within ttl.</summary>
    public static LabOptions Options(string name) => new()
    {
        Root = Path.Combine(Path.GetTempPath(), $"appl-ct-{name}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}"),
        Agent = AgentCommand.Locate(Repo.Root(AppContext.BaseDirectory), preferPublished: false),
        Scope = $"ct-{name}",
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

    public static async Task ExecAsync(this LocalCluster c, string member, string sql)
    {
        await using var conn = new NpgsqlConnection(c.ConnectionString(member));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<T?> ScalarAsync<T>(this LocalCluster c, string member, string sql)
    {
        await using var conn = new NpgsqlConnection(c.ConnectionString(member));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        var v = await cmd.ExecuteScalarAsync();
        return v is null or DBNull ? default : (T)v;
    }

    /// <summary>True when the member accepts a write right now.</summary>
    public static async Task<bool> AcceptsWritesAsync(this LocalCluster c, string member)
    {
        try
        {
            await c.ExecAsync(member, "CREATE TABLE IF NOT EXISTS ct_probe(x int); INSERT INTO ct_probe VALUES (1)");
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Waits until exactly one member answers 200 on /primary and returns it.</summary>
    public static Task<LabMember> WaitForPrimaryAsync(this LocalCluster c, string what, TimeSpan deadline, Func<LabMember, bool>? where = null)
        => Wait.ForAsync(what, async () =>
        {
            var p = await c.PrimaryAsync();
            return p is not null && (where?.Invoke(p) ?? true) ? p : null;
        }, deadline);
}
