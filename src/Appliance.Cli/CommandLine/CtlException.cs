namespace Appliance.Cli.CommandLine;

/// <summary>
/// Ends a command with a message for the operator and an exit code: <see cref="Usage"/> (2) for a
/// wrong command line, configuration or a refusal to act without <c>--force</c>; <see cref="Failed"/>
/// (1) when the operation itself failed (etcd or a member's REST API said no, or did not answer).
/// </summary>
internal sealed class CtlException(int exitCode, string message) : Exception(message)
{
    public const int Failed = 1;
    public const int Usage = 2;

    public int ExitCode { get; } = exitCode;

    public static CtlException UsageError(string message) => new(Usage, message);
    public static CtlException Failure(string message) => new(Failed, message);
}
