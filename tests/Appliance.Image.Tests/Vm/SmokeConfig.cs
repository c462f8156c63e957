namespace Appliance.Image.Tests.Vm;

/// <summary>Drop-ins for one VM on QEMU's user-mode network (the guest is 10.0.2.15, as QEMU's DHCP would make it).</summary>
internal static class SmokeConfig
{
    public const string Mac = "52:54:00:12:34:56";

    /// <summary>The documented way: one cluster file shared by every node plus a small per-node file.</summary>
    public static Dictionary<string, string> Database() => new()
    {
        ["10-cluster.toml"] = """
            [cluster]
            scope = "smoke"

            [agent]
            ttl = 30
            loop_wait = 5
            retry_timeout = 10

            [postgresql.superuser]
            password = "smoke-superuser"

            [postgresql.replication]
            password = "smoke-replication"

            [watchdog]
            # QEMU's -device i6300esb: picked by what the driver calls itself.
            mode = "required"
            identity = "i6300ESB timer"
            safety_margin = 5
            """,
        ["20-node.toml"] = $"""
            [node]
            name = "db1"
            address = "10.0.2.15"

            [system]
            roles = ["database"]
            etcd_initial_cluster = ["db1=http://10.0.2.15:2380"]

            [[system.interface]]
            name = "lan0"
            mac = "{Mac}"
            addresses = ["10.0.2.15/24"]
            """,
    };

    /// <summary>A node whose file names a role that does not exist.</summary>
    public static Dictionary<string, string> Broken() => new()
    {
        ["20-node.toml"] = """
            [node]
            name = "db9"

            [system]
            roles = ["datbase"]
            """,
    };
}
