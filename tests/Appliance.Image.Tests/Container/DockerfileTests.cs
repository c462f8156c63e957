using System.Text.Json;
using Appliance.TestKit;
using Xunit.Abstractions;

namespace Appliance.Image.Tests.Container;

/// <summary>
/// The repository's Dockerfile: each role's image builds with buildah from image/out/rootfs.tar alone, runs
/// as the intended user with the intended entry point, and its binary reads the image's defaults plus a
/// drop-in mounted at /etc/appliance/conf.d exactly as on the appliance (<c>check-config</c>: the merged
/// configuration and exit 0, or the file and key of each error and exit 2).
/// </summary>
public sealed class DockerfileTests(RoleImages images, ITestOutputHelper output) : IClassFixture<RoleImages>, IDisposable
{
    const string ConfD = "/etc/appliance/conf.d";
    const string DropIn = "50-node.toml";
    readonly TempDir _confD = new("appl-confd");

    [Fact]
    public async Task Database_image_merges_the_drop_in_over_the_image_defaults()
    {
        var ctr = await ContainerAsync("database");
        WriteDropIn("""
            [node]
            name = "db-in-container"

            [cluster]
            scope = "container-test"

            [etcd]
            endpoints = ["http://etcd1:2379"]
            """);

        var r = await RunAsync(ctr, "appliance-agent", "check-config");

        Assert.True(r.ExitCode == 0, $"check-config in the database image:\n{r}");
        Assert.Contains("name = \"db-in-container\"", r.Output, StringComparison.Ordinal);
        Assert.Contains("scope = \"container-test\"", r.Output, StringComparison.Ordinal);
        Assert.Contains("\"http://etcd1:2379\"", r.Output, StringComparison.Ordinal);
        // The image's own defaults (/etc/appliance/appliance.toml from image/rootfs/) are under the drop-in.
        Assert.Contains("data_dir = \"/var/lib/appliance/postgresql/data\"", r.Output, StringComparison.Ordinal);
        Assert.Contains("listen = \"0.0.0.0:8008\"", r.Output, StringComparison.Ordinal);

        // It runs as postgres, which owns the folder the data directory, its socket folder and log go in.
        Assert.Equal("postgres", (await MustRunAsync(ctr, "id", "-un")).Trim());
        Assert.Equal("postgres 700", (await MustRunAsync(ctr, "stat", "-c", "%U %a", "/var/lib/appliance/postgresql")).Trim());

        var config = await ImageConfigAsync("database");
        Assert.Equal(["/usr/bin/appliance-agent"], Strings(config, "Entrypoint"));
        Assert.Equal(["run"], Strings(config, "Cmd"));
        Assert.Equal("postgres", config.GetProperty("User").GetString());
        Assert.Equal("SIGTERM", config.GetProperty("StopSignal").GetString());
        Assert.True(config.GetProperty("Volumes").TryGetProperty("/var/lib/appliance", out _), config.ToString());
        Assert.True(config.GetProperty("ExposedPorts").TryGetProperty("5432/tcp", out _), config.ToString());
        Assert.Equal("appliance-database", config.GetProperty("Labels").GetProperty("org.opencontainers.image.title").GetString());
    }

    [Fact]
    public async Task Database_image_names_the_file_and_key_of_a_broken_drop_in()
    {
        var ctr = await ContainerAsync("database");
        WriteDropIn("""
            [node]
            name = "db-in-container"

            [cluster]
            scope = "container-test"

            [agent]
            ttl = "soon"
            """);

        var r = await RunAsync(ctr, "appliance-agent", "check-config");

        Assert.True(r.ExitCode == 2, $"check-config of a broken drop-in in the database image:\n{r}");
        Assert.Contains($"{ConfD}/{DropIn}:8:", r.Errors, StringComparison.Ordinal);
        Assert.Contains("agent.ttl", r.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Balancer_image_merges_the_drop_in_over_the_image_defaults_and_names_a_broken_key()
    {
        var ctr = await ContainerAsync("balancer");
        WriteDropIn("""
            [cluster]
            scope = "container-test"

            [[proxy.listener]]
            name = "primary"
            bind = "127.0.0.1:5000"
            role = "primary"
            """);

        var r = await RunAsync(ctr, "appliance-balancer", "check-config");

        Assert.True(r.ExitCode == 0, $"check-config in the balancer image:\n{r}");
        Assert.Contains("scope = \"container-test\"", r.Output, StringComparison.Ordinal);
        Assert.Contains("bind = \"127.0.0.1:5000\"", r.Output, StringComparison.Ordinal);
        // [balancer] listen comes from the image's defaults (the built-in default is loopback only).
        Assert.Contains("listen = \"0.0.0.0:8009\"", r.Output, StringComparison.Ordinal);

        WriteDropIn("""
            [[proxy.listener]]
            name = "primary"
            bind = "127.0.0.1:5000"
            role = "leader"
            """);
        r = await RunAsync(ctr, "appliance-balancer", "check-config");

        Assert.True(r.ExitCode == 2, $"check-config of a broken drop-in in the balancer image:\n{r}");
        Assert.Contains($"{ConfD}/{DropIn}:4:", r.Errors, StringComparison.Ordinal);
        Assert.Contains("proxy.listener[0].role", r.Errors, StringComparison.Ordinal);

        // Root, so that the capabilities a runtime adds (NET_ADMIN, NET_RAW for VRRP) are effective.
        Assert.Equal("root", (await MustRunAsync(ctr, "id", "-un")).Trim());
        var config = await ImageConfigAsync("balancer");
        Assert.Equal(["/usr/bin/appliance-balancer"], Strings(config, "Entrypoint"));
        Assert.Equal(["run"], Strings(config, "Cmd"));
        Assert.Equal("SIGTERM", config.GetProperty("StopSignal").GetString());
    }

    [Fact]
    public async Task Etcd_image_runs_the_shipped_etcd_as_etcd()
    {
        var ctr = await ContainerAsync("etcd");

        Assert.Contains("etcd Version: 3.", await MustRunAsync(ctr, "etcd", "--version"), StringComparison.Ordinal);
        Assert.Equal("etcd", (await MustRunAsync(ctr, "id", "-un")).Trim());
        Assert.Equal("etcd 700", (await MustRunAsync(ctr, "stat", "-c", "%U %a", "/var/lib/appliance/etcd")).Trim());
        var config = await ImageConfigAsync("etcd");
        Assert.Equal(["/usr/bin/etcd"], Strings(config, "Entrypoint"));
        Assert.Contains("ETCD_DATA_DIR=/var/lib/appliance/etcd", Strings(config, "Env"));
    }

    /// <summary>A new working container of <paramref name="target"/>'s image (built on first use).</summary>
    async Task<string> ContainerAsync(string target)
    {
        var image = await images.ImageAsync(target);
        return await images.Buildah.FromAsync(image, $"appl-{target}-{Guid.NewGuid().ToString("N")[..8]}");
    }

    void WriteDropIn(string toml) => File.WriteAllText(Path.Combine(_confD.Path, DropIn), toml + "\n");

    /// <summary>Runs <paramref name="command"/> in the container with the test's conf.d mounted at /etc/appliance/conf.d.</summary>
    async Task<Buildah.Result> RunAsync(string ctr, params string[] command)
    {
        var r = await images.Buildah.RunInAsync(ctr, new Dictionary<string, string> { [_confD.Path] = ConfD }, command);
        output.WriteLine($"$ {string.Join(' ', command)}\n{r}");
        return r;
    }

    async Task<string> MustRunAsync(string ctr, params string[] command)
    {
        var r = await RunAsync(ctr, command);
        Assert.True(r.ExitCode == 0, $"{string.Join(' ', command)} in {ctr}:\n{r}");
        return r.Output;
    }

    /// <summary>The OCI image config (Entrypoint, Cmd, User, Env, Labels, ...) of <paramref name="target"/>'s image.</summary>
    async Task<JsonElement> ImageConfigAsync(string target)
    {
        using var doc = JsonDocument.Parse(await images.Buildah.InspectImageAsync(await images.ImageAsync(target)));
        return doc.RootElement.GetProperty("OCIv1").GetProperty("config").Clone();
    }

    static string[] Strings(JsonElement config, string name)
        => [.. config.GetProperty(name).EnumerateArray().Select(e => e.GetString() ?? "")];

    public void Dispose()
    {
        foreach (var (target, took) in images.BuildTimes) output.WriteLine($"built {target} in {took.TotalSeconds:0.0}s");
        _confD.Dispose();
    }
}
