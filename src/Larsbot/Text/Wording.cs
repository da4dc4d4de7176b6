using System.Globalization;

namespace Larsbot.Text;

/// <summary>How times and quoted alert text read in every line the bot says or sends, whatever the channel.</summary>
public static class Wording
{
    /// <summary>How much of an alert's text a countdown, paging or purge line quotes.</summary>
    public const int QuoteChars = 100;

    private const string Ellipsis = "…";

    /// <summary>
    /// Alert text quoted inside another line: at most <paramref name="maxChars"/> chars, cut between text elements
    /// (never inside a surrogate pair or before a combining mark) and then ending with "…". The full text is in the
    /// URGENT line; on a phone, five lines each repeating 600 characters are a wall.
    /// </summary>
    public static string Quote(string text, int maxChars = QuoteChars)
    {
        if (text.Length <= maxChars)
            return text;
        var take = 0;
        while (take < text.Length)
        {
            var next = StringInfo.GetNextTextElementLength(text, take);
            if (take + next > maxChars - Ellipsis.Length)
                break;
            take += next;
        }
        return text[..take].TrimEnd() + Ellipsis;
    }

    public static string Secs(TimeSpan t)
    {
        var s = Math.Max(0, t.TotalSeconds);
        return Math.Abs(s - Math.Round(s)) < 0.05
            ? Math.Round(s).ToString(CultureInfo.InvariantCulture)
            : s.ToString("0.#", CultureInfo.InvariantCulture);
    }

    /// <summary>"30 minutes", "5 minutes", "90 secs", "1h 30m": what a tired human reads fastest.</summary>
    public static string Duration(TimeSpan t)
    {
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        if (t.TotalSeconds < 120) return $"{Secs(t)} secs";
        if (t.TotalMinutes < 120 && t.Seconds == 0) return $"{(int)t.TotalMinutes} minutes";
        if (t.TotalMinutes < 120) return $"{(int)t.TotalMinutes}m {t.Seconds}s";
        return $"{(int)t.TotalHours}h {t.Minutes}m";
    }
}
