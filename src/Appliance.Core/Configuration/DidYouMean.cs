namespace Appliance.Configuration;

/// <summary>Suggests the known key an unknown one was probably meant to be.</summary>
internal static class DidYouMean
{
    /// <summary>"unknown key; did you mean 'loop_wait'?", or the list of known keys when none is close.</summary>
    public static string UnknownKey(string key, IEnumerable<string> known)
    {
        var candidates = known.ToList();
        var best = Closest(key, candidates);
        if (best is not null)
            return $"unknown key; did you mean '{best}'?";
        return candidates.Count == 0
            ? "unknown key; this table takes no keys"
            : $"unknown key; expected one of: {string.Join(", ", candidates)}";
    }

    /// <summary>The known key nearest to <paramref name="key"/>, if it is near enough to be a typo.</summary>
    public static string? Closest(string key, IEnumerable<string> known)
    {
        var lower = key.ToLowerInvariant();
        // Up to a third of the key may be wrong (at least 2 edits): catches typos, dropped
        // underscores and camelCase, without suggesting unrelated keys.
        var allowed = Math.Max(2, lower.Length / 3);
        return known
            .Select(k => (Key: k, Distance: Distance(lower, k)))
            .Where(c => c.Distance <= allowed)
            .OrderBy(c => c.Distance)
            .Select(c => c.Key)
            .FirstOrDefault();
    }

    /// <summary>Edit distance with adjacent transpositions (optimal string alignment): "tll" is one edit from "ttl".</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
            d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++)
            d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
