using Appliance.Cluster;
using Appliance.Configuration;
using Appliance.Ha;
using Appliance.Node;

namespace Appliance.Agent.Ha;

/// <summary>Builds this node's member key value (Patroni's <c>touch_member</c> data) from what the cycle saw.</summary>
public sealed class MemberPublisher(ApplianceConfig config)
{
    /// <summary>Our version, published where Patroni publishes its own.</summary>
    public const string Version = "0.1.0";

    public string ConnUrl { get; } = $"postgres://{PostgresConnectAddress(config)}/postgres";
    public string ApiUrl { get; } = $"http://{RestConnectAddress(config)}/patroni";

    public static string PostgresConnectAddress(ApplianceConfig c)
        => c.Postgresql.ConnectAddress ?? $"{c.Node.Address}:{c.Postgresql.Port}";

    public static string RestConnectAddress(ApplianceConfig c)
        => c.Restapi.ConnectAddress ?? $"{c.Node.Address}:{c.Restapi.Listen[(c.Restapi.Listen.LastIndexOf(':') + 1)..]}";

    public MemberData Build(PostgresState pg, string state, bool paused = false, ScheduledRestartData? scheduledRestart = null)
    {
        var isPrimary = pg.IsPrimary;
        return new MemberData
        {
            ConnUrl = ConnUrl,
            ApiUrl = ApiUrl,
            State = state,
            Role = !pg.DataDirInitialized ? "uninitialized" : isPrimary ? "master" : "replica",
            Version = Version,
            XlogLocation = pg.WalPosition,
            Timeline = pg.Timeline,
            ReplayLsn = isPrimary ? null : pg.ReplayLsn,
            ReceiveLsn = isPrimary ? null : pg.ReceiveLsn,
            PendingRestart = pg.PendingRestart ? true : null,
            Tags = Tags(config.Tags),
            Pause = paused ? true : null,
            ScheduledRestart = scheduledRestart,
        };
    }

    /// <summary>Only the tags that differ from their defaults, as Patroni publishes them.</summary>
    static Dictionary<string, JsonTagValue>? Tags(TagsSection t)
    {
        var d = new Dictionary<string, JsonTagValue>();
        if (t.Nofailover) d["nofailover"] = true;
        if (t.FailoverPriority != 1) d["failover_priority"] = t.FailoverPriority;
        if (t.Noloadbalance) d["noloadbalance"] = true;
        if (t.Clonefrom) d["clonefrom"] = true;
        if (t.Nosync) d["nosync"] = true;
        return d.Count == 0 ? null : d;
    }

    /// <summary>The state string Patroni would publish for this moment.</summary>
    public static string StateOf(PostgresState pg, HaActionKind? inProgress) => inProgress switch
    {
        HaActionKind.Bootstrap => "initializing new cluster",
        HaActionKind.Clone or HaActionKind.Rejoin or HaActionKind.Reinitialize => "creating replica",
        HaActionKind.Restart => "restarting",
        HaActionKind.Demote => "stopping",
        HaActionKind.StartAsPrimary or HaActionKind.StartAsReplica => "starting",
        _ when pg.Accepting => "running",
        _ when pg.PostmasterRunning => "starting",
        _ => "stopped",
    };
}
