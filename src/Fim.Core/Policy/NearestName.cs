namespace Fim.Core.Policy;

/// <summary>Finds the allowed name a mistyped one was most likely meant to be.</summary>
internal static class NearestName
{
    private const int MaxComparedLength = 64;

    /// <summary>The closest candidate within a few edits (case, '_' and '-' ignored), or null when none is close.</summary>
    public static string? Find(string typed, IEnumerable<string> candidates)
    {
        if (typed.Length > MaxComparedLength)
        {
            return null;
        }
        var wanted = Simplify(typed);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = EditDistance(wanted, Simplify(candidate));
            var tolerance = Math.Max(1, candidate.Length / 3);
            if (distance <= tolerance && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return best;
    }

    private static string Simplify(string name) =>
        new(name.Where(c => c is not ('_' or '-')).Select(char.ToLowerInvariant).ToArray());

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1.</summary>
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
