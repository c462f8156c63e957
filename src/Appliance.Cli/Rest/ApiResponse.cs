namespace Appliance.Cli.Rest;

/// <summary>What a member's REST API answered: the status code and the body as text.</summary>
internal sealed record ApiResponse(int Status, string Body)
{
    public bool IsSuccess => Status is >= 200 and < 300;
}

/// <summary>A member's REST API did not answer at all (refused, timed out, TLS failed): the caller may try another way.</summary>
internal sealed class ApiUnreachableException(string message, Exception inner) : Exception(message, inner);
