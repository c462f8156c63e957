namespace Appliance.Lab.Checker;

/// <summary>
/// The node that served a write and the timeline it was writing on, read in the write's own transaction, so
/// split brain shows up as two nodes on one timeline or a timeline going backwards.
/// <c>Node</c> is the server's own address and port (<c>inet_server_addr():inet_server_port()</c>), not the proxy's.
/// </summary>
public sealed record ServedBy(string Node, int Timeline)
{
    public override string ToString() => $"{Node} (timeline {Timeline})";
}
