using System.Diagnostics;

namespace Appliance.TestKit;

/// <summary>Waiting on a condition with a generous deadline: never a fixed sleep.</summary>
public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until it holds; throws a TimeoutException naming <paramref name="what"/> after <paramref name="deadline"/>.</summary>
    public static async Task UntilAsync(string what, Func<Task<bool>> condition, TimeSpan deadline, TimeSpan? poll = null)
    {
        var sw = Stopwatch.StartNew();
        Exception? last = null;
        while (sw.Elapsed < deadline)
        {
            try
            {
                if (await condition()) return;
            }
            catch (Exception e)
            {
                last = e;
            }
            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(100));
        }
        throw new TimeoutException($"not within {deadline.TotalSeconds:0}s: {what}" + (last is null ? "" : $" (last error: {last.Message})"), last);
    }

    public static Task UntilAsync(string what, Func<bool> condition, TimeSpan deadline)
        => UntilAsync(what, () => Task.FromResult(condition()), deadline);

    /// <summary>Polls until <paramref name="probe"/> returns a non-null value and returns it.</summary>
    public static async Task<T> ForAsync<T>(string what, Func<Task<T?>> probe, TimeSpan deadline) where T : class
    {
        T? result = null;
        await UntilAsync(what, async () => (result = await probe()) is not null, deadline);
        return result!;
    }
}
