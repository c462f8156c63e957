using System.Text;

namespace Appliance.Cli.Output;

/// <summary>A unified diff of two texts (Python's <c>difflib.unified_diff</c> shape, 3 lines of context), from a longest-common-subsequence table.</summary>
internal static class UnifiedDiff
{
    public static string Render(string before, string after, string fromName = "before", string toName = "after")
    {
        var a = before.TrimEnd('\n').Split('\n');
        var b = after.TrimEnd('\n').Split('\n');
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
            for (var j = b.Length - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);

        // The edit script: (' ', line), ('-', line), ('+', line) with positions in a and b.
        var ops = new List<(char Op, string Line, int A, int B)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y]) { ops.Add((' ', a[x], x, y)); x++; y++; }
            // Removals before additions, as difflib prints a replaced line.
            else if (x < a.Length && (y == b.Length || lcs[x + 1, y] >= lcs[x, y + 1])) { ops.Add(('-', a[x], x, y)); x++; }
            else { ops.Add(('+', b[y], x, y)); y++; }
        }
        if (ops.All(o => o.Op == ' ')) return "";

        var sb = new StringBuilder();
        sb.Append("--- ").Append(fromName).Append('\n').Append("+++ ").Append(toName).Append('\n');
        const int context = 3;
        var k = 0;
        while (k < ops.Count)
        {
            var firstChange = ops.FindIndex(k, o => o.Op != ' ');
            if (firstChange < 0) break;
            var start = Math.Max(k, firstChange - context);
            var end = firstChange;
            // Extend the hunk while the next change is within 2 x context lines.
            while (true)
            {
                var next = end;
                while (next < ops.Count && ops[next].Op != ' ') next++;
                var following = ops.FindIndex(next, o => o.Op != ' ');
                if (following >= 0 && following - next <= 2 * context) { end = following; continue; }
                end = Math.Min(ops.Count, next + context);
                break;
            }
            var hunk = ops.GetRange(start, end - start);
            var aCount = hunk.Count(o => o.Op != '+');
            var bCount = hunk.Count(o => o.Op != '-');
            var aStart = hunk[0].A + (aCount > 0 ? 1 : 0);
            var bStart = hunk[0].B + (bCount > 0 ? 1 : 0);
            sb.Append($"@@ -{Range(aStart, aCount)} +{Range(bStart, bCount)} @@\n");
            foreach (var o in hunk) sb.Append(o.Op).Append(o.Line).Append('\n');
            k = end;
        }
        return sb.ToString();
    }

    private static string Range(int start, int count) => count == 1 ? $"{start}" : $"{start},{count}";
}
