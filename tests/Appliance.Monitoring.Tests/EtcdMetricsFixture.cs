using Appliance.TestKit;

namespace Appliance.Monitoring.Tests;

/// <summary>
/// The metric names a real etcd (Debian's etcd-server, 3.4) serves on its client port, scraped once
/// from a single member on 127.0.0.1 with a temporary data folder; the member is killed (by PID)
/// and its folder removed as soon as it has answered, or failed to.
/// </summary>
public sealed class EtcdMetricsFixture : IAsyncLifetime
{
    public IReadOnlySet<string> Names { get; private set; } = new HashSet<string>();

    public async Task InitializeAsync()
    {
        using var etcd = new EtcdServer();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(new Uri($"{etcd.Endpoint}/metrics"));
        Names = ExportedMetrics.Names(text);
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
