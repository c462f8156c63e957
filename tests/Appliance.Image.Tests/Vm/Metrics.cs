using System.Globalization;
using Appliance.Lab.Vm;

namespace Appliance.Image.Tests.Vm;

/// <summary>Reads a VM's /metrics through its loopback forward.</summary>
internal static class Metrics
{
    /// <summary>Polls until <paramref name="ready"/> holds for the exposition text; throws with the console's tail on timeout.</summary>
    public static async Task<string> WaitForAsync(int port, Func<string, bool> ready, TimeSpan timeout, QemuVm vm)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var until = DateTime.UtcNow + timeout;
        var last = "(no answer yet)";
        while (DateTime.UtcNow < until)
        {
            try
            {
                last = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
                if (ready(last)) return last;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            if (vm.HasExited) break;
            await Task.Delay(2000);
        }
        throw new TimeoutException($"{vm.Name}: /metrics did not become ready within {timeout.TotalMinutes:0} min; last answer:\n{last}\nconsole:\n{vm.ConsoleTail()}");
    }

    /// <summary>The value of the first sample of <paramref name="name"/> (any labels), or null when absent.</summary>
    public static double? Value(string exposition, string name)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length == name.Length || (line[name.Length] != ' ' && line[name.Length] != '{')) continue;
            return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }
        return null;
    }
}
