namespace Appliance.Node;

/// <summary>What <see cref="IPostgresController.CheckDivergenceAsync"/> concluded.</summary>
public enum RewindVerdict
{
    /// <summary>The local history is a prefix of the source's: the node can simply follow it.</summary>
    NotNeeded,
    /// <summary>The local data went past the point where the source's timeline forked off (or is another cluster): rewind or re-clone.</summary>
    Needed,
    /// <summary>Could not tell (source unreachable, local state unreadable, running as a primary): try again later.</summary>
    Unknown,
}

/// <summary>The verdict with a reason an operator can read (timelines and LSNs involved, or what failed).</summary>
public sealed record RewindCheck(RewindVerdict Verdict, string Reason)
{
    public static RewindCheck NotNeeded(string reason) => new(RewindVerdict.NotNeeded, reason);
    public static RewindCheck Needed(string reason) => new(RewindVerdict.Needed, reason);
    public static RewindCheck Unknown(string reason) => new(RewindVerdict.Unknown, reason);
}
