using Appliance.Agent.Ha;
using Appliance.Configuration;
using Appliance.TestKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Appliance.Agent.Tests;

/// <summary>Callback scripts run with Patroni's arguments, in the background, and are killed after their timeout.</summary>
public sealed class CallbacksTests : IDisposable
{
    readonly TempDir _dir = new("appl-callbacks");
    public void Dispose() => _dir.Dispose();

    string Script(string name, string body)
    {
        var path = _dir.Sub(name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        return path;
    }

    [Fact]
    public async Task A_callback_gets_action_role_and_scope()
    {
        var output = _dir.Sub("args");
        var cb = new Callbacks(new CallbacksSection { OnRoleChange = Script("cb", $"echo \"$@\" > {output}.tmp && mv {output}.tmp {output}") }, "prod", NullLogger<Callbacks>.Instance);
        cb.OnRoleChange("master");
        await Wait.UntilAsync("the callback wrote its arguments", () => File.Exists(output), TimeSpan.FromSeconds(30));
        Assert.Equal("on_role_change master prod", File.ReadAllText(output).Trim());
    }

    [Fact]
    public async Task A_callback_that_outlives_its_timeout_is_killed_and_never_blocks_the_caller()
    {
        var marker = _dir.Sub("pid");
        var cb = new Callbacks(new CallbacksSection { OnStop = Script("slow", $"echo $$ > {marker}; exec sleep 600"), Timeout = 1 }, "prod", NullLogger<Callbacks>.Instance);
        var started = System.Diagnostics.Stopwatch.StartNew();
        cb.OnStop("master");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), "firing a callback returns at once");
        var pid = await Wait.ForAsync("the callback started", () => Task.FromResult(File.Exists(marker) && File.ReadAllText(marker).Trim() is { Length: > 0 } t ? t : null), TimeSpan.FromSeconds(30));
        await Wait.UntilAsync("the callback is killed after its timeout", () => !Directory.Exists($"/proc/{pid}"), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Unset_and_missing_scripts_are_harmless()
    {
        var cb = new Callbacks(new CallbacksSection { OnStart = _dir.Sub("does-not-exist") }, "prod", NullLogger<Callbacks>.Instance);
        Assert.Null(Record.Exception(() =>
        {
            cb.OnStart("replica");
            cb.OnReload("replica");
        }));
    }
}
