using Appliance.Proxy;

namespace Appliance.Balancer.Proxy.Checks;

/// <summary>HAProxy's plain <c>check</c>: the server accepts a TCP connection. It cannot tell a role.</summary>
public sealed class TcpCheck(TimeSpan timeout, TimeProvider time) : IBackendCheck
{
    public string Type => "tcp";

    public Task<CheckOutcome> RunAsync(CheckTarget target, CancellationToken ct)
        => CheckRun.TimedAsync(time, timeout, async token =>
        {
            var socket = await CheckSocket.ConnectAsync(target.Backend.Host, target.Backend.Port, token).ConfigureAwait(false);
            CheckSocket.Close(socket);
            return CheckOutcome.Pass(BackendRole.Unknown, "accepts TCP connections");
        }, ct);
}
