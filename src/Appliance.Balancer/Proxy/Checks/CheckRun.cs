using System.Net.Http;
using System.Net.Sockets;
using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>
/// What every check shares: its deadline, its latency, and turning the exceptions of sockets, HttpClient and
/// Npgsql into the layer an operator reads (refused, timeout, protocol). The check itself only says what a
/// good answer is.
/// </summary>
static class CheckRun
{
    public static async Task<CheckOutcome> TimedAsync(TimeProvider time, TimeSpan timeout, Func<CancellationToken, Task<CheckOutcome>> body, CancellationToken ct)
    {
        long start = time.GetTimestamp();
        // Our own deadline, apart from the caller's token: one expiring is a Timeout outcome, the other a real cancel.
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        CheckOutcome outcome;
        try
        {
            outcome = await body(linked.Token).ConfigureAwait(false);
        }
        catch (Exception) when (!ct.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            outcome = CheckOutcome.Fail(CheckLayer.Timeout, $"no answer within {timeout.TotalMilliseconds:0} ms");
        }
        catch (Exception e) when (!ct.IsCancellationRequested && Classify(e) is { } failed)
        {
            outcome = failed;
        }
        return outcome with { Latency = time.GetElapsedTime(start) };
    }

    /// <summary>The outcome an exception stands for, or null for one that is a bug and must surface.</summary>
    public static CheckOutcome? Classify(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            switch (x)
            {
                case SocketException s:
                    return Socket(s);
                case TimeoutException:
                    return CheckOutcome.Fail(CheckLayer.Timeout, x.Message);
                case HttpRequestException h when h.HttpRequestError is HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded:
                    return CheckOutcome.Fail(CheckLayer.Protocol, $"not an HTTP answer: {h.Message}");
                case HttpRequestException h when h.HttpRequestError is HttpRequestError.SecureConnectionError:
                    return CheckOutcome.Fail(CheckLayer.Protocol, $"TLS: {Innermost(h).Message}");
                case HttpRequestException h when x.InnerException is null:
                    return CheckOutcome.Fail(CheckLayer.Protocol, h.Message);
                case EndOfStreamException or System.IO.IOException when x.InnerException is null:
                    return CheckOutcome.Fail(CheckLayer.Protocol, $"the connection ended before an answer: {x.Message}");
            }
        }
        return null;
    }

    /// <summary>Connect errors are layer 4 (nothing there to talk to); a reset once connected is a broken answer.</summary>
    public static CheckOutcome Socket(SocketException s) => s.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => CheckOutcome.Fail(CheckLayer.Refused, "connection refused"),
        SocketError.TimedOut => CheckOutcome.Fail(CheckLayer.Timeout, "connect timed out"),
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown
            => CheckOutcome.Fail(CheckLayer.Protocol, $"the server reset the connection ({s.SocketErrorCode})"),
        _ => CheckOutcome.Fail(CheckLayer.Refused, $"cannot connect: {s.SocketErrorCode}: {s.Message}"),
    };

    static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
