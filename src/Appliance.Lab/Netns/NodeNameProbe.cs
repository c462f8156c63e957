using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Lab.Netns;

/// <summary>The client side of <see cref="NodeNameServer"/>: who answers at an address, seen from a namespace.</summary>
public static class NodeNameProbe
{
    /// <summary>
    /// Connects from <paramref name="netns"/> to <paramref name="target"/> and returns the name the
    /// node sent; null when the connection or the answer fails or takes longer than <paramref name="timeout"/>.
    /// </summary>
    public static async Task<string?> AskAsync(string netns, IPEndPoint target, TimeSpan timeout, CancellationToken ct = default)
    {
        using var s = NetnsSocket.Create(netns);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await s.ConnectAsync(target, cts.Token);
            var buffer = new byte[64];
            var n = 0;
            while (n < buffer.Length)
            {
                var got = await s.ReceiveAsync(buffer.AsMemory(n), SocketFlags.None, cts.Token);
                if (got == 0) break;
                n += got;
            }
            var text = Encoding.ASCII.GetString(buffer, 0, n).Trim();
            return text.Length > 0 ? text : null;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException)
        {
            ct.ThrowIfCancellationRequested();
            return null;
        }
    }
}
