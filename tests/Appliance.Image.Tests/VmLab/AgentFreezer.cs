using System.Globalization;
using Npgsql;

namespace Appliance.Image.Tests.VmLab;

/// <summary>
/// Freezes a database VM's agent with SIGSTOP from outside, without a shell in the guest (root is locked):
/// through PostgreSQL as the superuser. <c>COPY ... TO PROGRAM</c> runs a shell command as the postgres OS
/// user, which the agent also runs as.
/// </summary>
internal static class AgentFreezer
{
    /// <summary>
    /// Finds the agent's PID, then sends it SIGSTOP about a second after returning. Returns the PID and how it
    /// was found ("parent": the postmaster's parent; "by name": the postmaster was reparented, see below).
    /// </summary>
    public static async Task<(int Pid, string How)> FreezeAsync(string connectionString)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        var dataDir = (string)(await Scalar(c, "select current_setting('data_directory')"))!;
        // The postmaster's parent is the agent only while it started PostgreSQL as its own child; pg_ctl start
        // leaves the postmaster to be reparented (to PID 1, which postgres may not signal). Then the agent is
        // found by its name (15 characters: all of it fits in comm). No single quote: this sits in a SQL literal.
        var find = $"pm=$(head -n 1 {dataDir}/postmaster.pid); pp=$(ps -o ppid= -p $pm | tr -d \" \"); how=parent; " +
            "if [ \"$(cat /proc/$pp/comm)\" != appliance-agent ]; then pp=$(ps -o pid= -C appliance-agent | tr -d \" \"); how=name; fi; " +
            $"echo $pp $how > {dataDir}/freeze-target";
        await Exec(c, $"copy (select 1) to program '{find}'");
        var found = ((string)(await Scalar(c, "select pg_read_file('freeze-target')"))!).Trim().Split(' ');
        var pid = int.Parse(found[0], CultureInfo.InvariantCulture);
        // popen() runs the command with sh -c and COPY returns when that sh exits. The kill runs in the background,
        // detached from the pipe and from the backend's output, a second later: the COPY and its transaction end
        // first, and nothing of this backend waits on the frozen agent.
        await Exec(c, $"copy (select 1) to program '(sleep 1; kill -STOP {pid}) </dev/null >/dev/null 2>&1 &'");
        return (pid, found.Length > 1 && found[1] == "parent" ? "parent" : "by name");
    }

    static async Task<object?> Scalar(NpgsqlConnection c, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        return await cmd.ExecuteScalarAsync();
    }

    static async Task Exec(NpgsqlConnection c, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }
}
