using Etcdserverpb;
using Grpc.Core;

namespace Appliance.Etcd;

/// <summary>
/// A watch on a quiet cluster sends nothing, and neither does one on a member that hangs; etcd answers a
/// progress request (<c>WatchProgressRequest</c>, etcd 3.4+) on the stream at once with its revision. So a
/// watch that stays silent past its bound is a broken one (a partition, a hung member) and is cancelled,
/// to start again (on another endpoint, where there is one).
/// </summary>
internal static class WatchProgress
{
    /// <summary>
    /// Sends a progress request every <paramref name="every"/>; cancels <paramref name="watch"/> once
    /// <paramref name="answered"/> (the timestamp of the stream's last answer) is <paramref name="silentAfter"/> old.
    /// </summary>
    public static async Task RequestAsync(IClientStreamWriter<WatchRequest> requests, Func<long> answered, TimeSpan every, TimeSpan silentAfter,
        TimeProvider time, CancellationTokenSource watch)
    {
        while (!watch.IsCancellationRequested)
        {
            await Task.Delay(every, time, watch.Token);
            if (time.GetElapsedTime(answered()) >= silentAfter)
            {
                await watch.CancelAsync();
                return;
            }
            await requests.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, watch.Token);
        }
    }
}
