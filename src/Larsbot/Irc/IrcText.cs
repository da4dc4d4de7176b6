using System.Text;

namespace Larsbot.Irc;

/// <summary>
/// Turns arbitrary text (alert bodies, JSON, stack traces) into IRC-safe pieces. A bare CR or LF ends the line on
/// real servers (command injection), a NUL wedges ngircd, and a line over 512 bytes gets us disconnected.
/// </summary>
internal static class IrcText
{
    public const int MaxLineBytes = 512;
    public const string Ellipsis = "…";

    // RFC 2812 allows 9 for nick, but servers raise it; user and host are what the server shows others, and we
    // cannot see our own host reliably, so budget for the worst case the server will prepend when relaying.
    private const int WorstCaseUserLength = 10;
    private const int WorstCaseHostLength = 63;

    /// <summary>
    /// CR, LF and NUL become the visible two-character sequences <c>\r</c>, <c>\n</c>, <c>\0</c> so a JSON body still
    /// reads as what it was; every other C0 control is dropped: the CTCP marker \x01 (an alert must not make clients
    /// answer VERSION or show an ACTION) and the mIRC formatting codes (bold, colour with its digits, hex colour,
    /// reset, reverse, italic, strikethrough, monospace, underline), so alert text cannot hide or restyle itself.
    /// Lone surrogates become U+FFFD so the result always encodes to valid UTF-8.
    /// </summary>
    public static string Sanitize(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return "";
        var sb = new StringBuilder(text.Length);
        var span = text.AsSpan();
        var i = 0;
        while (i < span.Length)
        {
            if (Rune.DecodeFromUtf16(span[i..], out var rune, out var used) != System.Buffers.OperationStatus.Done)
                rune = Rune.ReplacementChar;
            i += used;
            switch (rune.Value)
            {
                case '\r': sb.Append("\\r"); break;
                case '\n': sb.Append("\\n"); break;
                case '\0': sb.Append("\\0"); break;
                case 0x03: i = SkipColour(span, i, 2, char.IsAsciiDigit); break;
                case 0x04: i = SkipColour(span, i, 6, char.IsAsciiHexDigit); break;
                case < 0x20 or 0x7F: break;
                default: sb.Append(rune.ToString()); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>After a colour code: skips "fg" or "fg,bg" (each up to <paramref name="width"/> digits).</summary>
    private static int SkipColour(ReadOnlySpan<char> s, int i, int width, Func<char, bool> digit)
    {
        var n = 0;
        while (n < width && i + n < s.Length && digit(s[i + n])) n++;
        if (n == 0) return i;
        i += n;
        if (i + 1 < s.Length && s[i] == ',' && digit(s[i + 1]))
        {
            n = 0;
            i++;
            while (n < width && i + n < s.Length && digit(s[i + n])) n++;
            i += n;
        }
        return i;
    }

    /// <summary>
    /// Bytes left for the text of <c>:nick!user@host COMMAND target :text\r\n</c> as the server relays it to others.
    /// </summary>
    public static int PayloadBudget(int nickLength, string command, string target) =>
        MaxLineBytes
        - (1 + nickLength + 1 + WorstCaseUserLength + 1 + WorstCaseHostLength) // ":nick!user@host"
        - (1 + Encoding.UTF8.GetByteCount(command) + 1 + Encoding.UTF8.GetByteCount(target) + 2) // " CMD target :"
        - 2; // CRLF

    /// <summary>
    /// Sanitizes <paramref name="text"/> and splits it into at most <paramref name="maxLines"/> pieces of at most
    /// <paramref name="maxBytes"/> UTF-8 bytes each, cutting only between code points and preferring a space in the
    /// back half of a piece. If the text does not fit, the last piece ends with "…". Empty pieces are never produced
    /// (servers reject an empty PRIVMSG).
    /// </summary>
    public static IReadOnlyList<string> Split(string? text, int maxBytes, int maxLines)
    {
        var clean = Sanitize(text);
        var pieces = new List<string>();
        if (clean.Length == 0 || maxLines < 1)
            return pieces;
        // Room for at least one code point plus the ellipsis, whatever the caller passes.
        maxBytes = Math.Max(maxBytes, 8);

        var pos = 0;
        while (pos < clean.Length)
        {
            var last = pieces.Count == maxLines - 1;
            var rest = clean.AsSpan(pos);
            if (Encoding.UTF8.GetByteCount(rest) <= maxBytes)
            {
                pieces.Add(rest.ToString());
                break;
            }
            var budget = last ? maxBytes - Encoding.UTF8.GetByteCount(Ellipsis) : maxBytes;
            var (take, skip) = Cut(rest, budget);
            var piece = rest[..take].ToString();
            if (last)
            {
                pieces.Add(piece.TrimEnd() + Ellipsis);
                break;
            }
            if (piece.Length > 0)
                pieces.Add(piece);
            pos += take + skip;
        }
        return pieces;
    }

    /// <summary>How many chars of <paramref name="text"/> fit in <paramref name="budget"/> bytes, and how many
    /// separator chars to skip after them (the space we broke at).</summary>
    private static (int Take, int Skip) Cut(ReadOnlySpan<char> text, int budget, bool preferSpace = true)
    {
        var bytes = 0;
        var chars = 0;
        var lastSpace = -1;
        while (chars < text.Length)
        {
            Rune.DecodeFromUtf16(text[chars..], out var rune, out var used);
            var size = rune.Utf8SequenceLength;
            if (bytes + size > budget)
                break;
            if (rune.Value == ' ')
                lastSpace = chars;
            bytes += size;
            chars += used;
        }
        // A space in the back half keeps words whole without wasting much of the line.
        if (preferSpace && lastSpace > 0 && lastSpace >= chars / 2)
            return (lastSpace, 1);
        return (chars, 0);
    }

    /// <summary>Cuts text to at most <paramref name="maxBytes"/> UTF-8 bytes on a code point boundary.</summary>
    public static string Truncate(string text, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes)
            return text;
        var (take, _) = Cut(text, Math.Max(0, maxBytes), preferSpace: false);
        return text[..take];
    }

    /// <summary>
    /// Nick and channel comparison under the rfc1459 casemapping most servers default to: besides ASCII letters,
    /// []\~ are the upper case of {}|^.
    /// </summary>
    public static bool NameEquals(string? a, string? b)
    {
        if (a is null || b is null)
            return a is null && b is null;
        if (a.Length != b.Length)
            return false;
        for (var i = 0; i < a.Length; i++)
        {
            if (Fold(a[i]) != Fold(b[i]))
                return false;
        }
        return true;
    }

    private static char Fold(char c) => c switch
    {
        >= 'A' and <= 'Z' => (char)(c + 32),
        '[' => '{',
        ']' => '}',
        '\\' => '|',
        '~' => '^',
        _ => c,
    };
}
