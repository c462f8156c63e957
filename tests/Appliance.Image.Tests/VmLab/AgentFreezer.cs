using Npgsql;

namespace Appliance.Image.Tests.VmLab;

/// <summary>
/// Freezes a database VM's agent with SIGSTOP from outside, without a shell in the guest (root is locked):
/// through PostgreSQL as the superuser. <c>COPY ... TO PROGRAM</c> runs a shell command as the postgres OS
/// user, which the agent also runs as, and the agent is the postmaster's parent.
/// </summary>
internal static class AgentFreezer
{
    /// <summary>Sends SIGSTOP to the agent of the PostgreSQL behind <paramref name="connectionString"/> about a second after returning.</summary>
    public static async Task FreezeAsync(string connectionString)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        string dataDir;
        await using (var cmd = new NpgsqlCommand("select current_setting('data_directory')", c))
            dataDir = (string)(await cmd.ExecuteScalarAsync())!;
        // popen() runs this with sh -c and COPY returns when that sh exits. The kill runs in the background,
        // detached from the pipe and from the backend's output, a second later: the COPY and its transaction end
        // first, and nothing of the backend waits on anything the frozen agent would have to do.
        var stop = $"(sleep 1; kill -STOP $(ps -o ppid= -p $(head -n 1 {dataDir}/postmaster.pid))) </dev/null >/dev/null 2>&1 &";
        await using var copy = new NpgsqlCommand($"copy (select 1) to program '{stop}'", c);
        await copy.ExecuteNonQueryAsync();
    }
}
