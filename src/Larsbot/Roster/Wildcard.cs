namespace Larsbot.Roster;

/// <summary>
/// IRC-style glob: <c>*</c> any run of characters, <c>?</c> one. Used for roster hostmasks and for the hosts an
/// intake token may speak for. Iterative with one backtrack point, so a hostile pattern or input cannot blow up.
/// </summary>
public static class Wildcard
{
    public static bool IsMatch(string pattern, string text, bool ignoreCase = true)
    {
        var cmp = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || string.Compare(pattern, p, text, t, 1, cmp) == 0) && pattern[p] != '*')
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}
