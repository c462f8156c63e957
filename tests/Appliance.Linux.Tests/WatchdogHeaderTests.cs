using System.Runtime.InteropServices;
using Appliance.Linux.Interop;
using Appliance.TestKit;

namespace Appliance.Linux.Tests;

/// <summary>The C# ioctl numbers and struct layout against what gcc computes from &lt;linux/watchdog.h&gt;.</summary>
public sealed class WatchdogHeaderTests
{
    [Fact]
    public unsafe void Constants_and_layout_match_the_kernel_header()
    {
        using var dir = new TempDir("appl-wdh");
        File.WriteAllText(dir.Sub("h.c"), """
            #include <stdio.h>
            #include <stddef.h>
            #include <linux/watchdog.h>
            int main(void) {
                printf("WDIOC_GETSUPPORT=%u\n", (unsigned)WDIOC_GETSUPPORT);
                printf("WDIOC_GETSTATUS=%u\n", (unsigned)WDIOC_GETSTATUS);
                printf("WDIOC_GETBOOTSTATUS=%u\n", (unsigned)WDIOC_GETBOOTSTATUS);
                printf("WDIOC_KEEPALIVE=%u\n", (unsigned)WDIOC_KEEPALIVE);
                printf("WDIOC_SETTIMEOUT=%u\n", (unsigned)WDIOC_SETTIMEOUT);
                printf("WDIOC_GETTIMEOUT=%u\n", (unsigned)WDIOC_GETTIMEOUT);
                printf("WDIOF_SETTIMEOUT=%u\n", (unsigned)WDIOF_SETTIMEOUT);
                printf("WDIOF_MAGICCLOSE=%u\n", (unsigned)WDIOF_MAGICCLOSE);
                printf("WDIOF_KEEPALIVEPING=%u\n", (unsigned)WDIOF_KEEPALIVEPING);
                printf("sizeof=%zu\n", sizeof(struct watchdog_info));
                printf("firmware_version=%zu\n", offsetof(struct watchdog_info, firmware_version));
                printf("identity=%zu\n", offsetof(struct watchdog_info, identity));
                return 0;
            }
            """);
        var gcc = EmulatorBinary.Run("gcc", "-o", dir.Sub("h"), dir.Sub("h.c"));
        Assert.True(gcc.ExitCode == 0, $"gcc failed (run scripts/setup.sh): {gcc.Errors}");
        var c = EmulatorBinary.Run(dir.Sub("h")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=')).ToDictionary(p => p[0], p => ulong.Parse(p[1]));

        (string Name, ulong CSharp)[] ours =
        [
            ("WDIOC_GETSUPPORT", WatchdogH.WDIOC_GETSUPPORT),
            ("WDIOC_GETSTATUS", WatchdogH.WDIOC_GETSTATUS),
            ("WDIOC_GETBOOTSTATUS", WatchdogH.WDIOC_GETBOOTSTATUS),
            ("WDIOC_KEEPALIVE", WatchdogH.WDIOC_KEEPALIVE),
            ("WDIOC_SETTIMEOUT", WatchdogH.WDIOC_SETTIMEOUT),
            ("WDIOC_GETTIMEOUT", WatchdogH.WDIOC_GETTIMEOUT),
            ("WDIOF_SETTIMEOUT", WatchdogH.WDIOF_SETTIMEOUT),
            ("WDIOF_MAGICCLOSE", WatchdogH.WDIOF_MAGICCLOSE),
            ("WDIOF_KEEPALIVEPING", WatchdogH.WDIOF_KEEPALIVEPING),
            ("sizeof", (ulong)sizeof(watchdog_info)),
            ("firmware_version", (ulong)Marshal.OffsetOf<watchdog_info>(nameof(watchdog_info.firmware_version))),
            ("identity", (ulong)Marshal.OffsetOf<watchdog_info>(nameof(watchdog_info.identity))),
        ];
        var wrong = ours.Where(o => c[o.Name] != o.CSharp).Select(o => $"{o.Name}: C# {o.CSharp:x}, gcc {c[o.Name]:x}").ToList();
        Assert.True(wrong.Count == 0, string.Join("; ", wrong));
        Assert.Equal(ours.Length, c.Count);
    }
}
