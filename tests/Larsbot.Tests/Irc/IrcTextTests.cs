using System.Text;
using Larsbot.Irc;

namespace Larsbot.Tests.Irc;

public class IrcTextTests
{
    private const string Channel = "#ops";
    private const int NickLength = 30;
    private static readonly int Budget = IrcText.PayloadBudget(NickLength, "PRIVMSG", Channel);

    [Fact]
    public void Sanitize_shows_line_breaks_and_nul_literally()
    {
        Assert.Equal("[\\n   \"listed\"", IrcText.Sanitize("[\n   \"listed\""));
        Assert.Equal("a\\r\\nb\\0c", IrcText.Sanitize("a\r\nb\0c"));
    }

    [Fact]
    public void Sanitize_drops_other_controls_and_formatting()
    {
        Assert.Equal("VERSION", IrcText.Sanitize("\u0001VERSION\u0001"));
        Assert.Equal("ab", IrcText.Sanitize("a\tb\u001b"));
        Assert.Equal("bold red  x", IrcText.Sanitize("\u0002bold\u0002 \u000304red\u000f \u00034,12\u000312 \u0016\u001d\u001f\u001e\u0011\u0004ff00ffx"));
        Assert.Equal(",5 and 1,", IrcText.Sanitize("\u0003,5 and 1\u00031,"));
    }

    [Fact]
    public void Sanitize_replaces_lone_surrogates()
    {
        Assert.Equal("a\uFFFDb", IrcText.Sanitize("a\uD800b"));
        Assert.Equal("😀", IrcText.Sanitize("😀"));
    }

    [Fact]
    public void Budget_counts_worst_case_prefix_and_crlf()
    {
        // ":" + 30 + "!" + 10 + "@" + 63 = 106; " PRIVMSG #ops :" = 15; CRLF = 2
        Assert.Equal(512 - 106 - 15 - 2, Budget);
    }

    [Fact]
    public void Short_text_is_one_piece()
    {
        Assert.Equal(["hello"], IrcText.Split("hello", Budget, 4));
        Assert.Empty(IrcText.Split("", Budget, 4));
        Assert.Empty(IrcText.Split("\u0001", Budget, 4));
    }

    [Fact]
    public void Splits_on_a_space_near_the_end()
    {
        var words = string.Join(' ', Enumerable.Range(0, 200).Select(i => $"word{i}"));
        var pieces = IrcText.Split(words, Budget, 20);

        Assert.True(pieces.Count > 1);
        Assert.Equal(words, string.Join(' ', pieces));
        Assert.All(pieces, p => Assert.DoesNotContain("word ", p + " ")); // no word cut in half
    }

    [Fact]
    public void Never_cuts_a_multibyte_char_and_loses_nothing()
    {
        var text = string.Concat(Enumerable.Repeat("ä€😀", 400));
        var pieces = IrcText.Split(text, Budget, 100);

        Assert.Equal(text, string.Concat(pieces));
        Assert.All(pieces, p => Assert.True(Encoding.UTF8.GetByteCount(p) <= Budget));
    }

    [Fact]
    public void Caps_the_number_of_pieces_and_marks_the_cut()
    {
        var text = new string('x', Budget * 10);
        var pieces = IrcText.Split(text, Budget, 4);

        Assert.Equal(4, pieces.Count);
        Assert.EndsWith("…", pieces[^1]);
        Assert.All(pieces, p => Assert.True(Encoding.UTF8.GetByteCount(p) <= Budget));
        Assert.DoesNotContain("…", string.Concat(pieces.Take(3)));
    }

    [Fact]
    public void Text_that_exactly_fits_the_cap_gets_no_ellipsis()
    {
        var text = new string('x', Budget * 2);
        var pieces = IrcText.Split(text, Budget, 2);
        Assert.Equal(text, string.Concat(pieces));
    }

    [Fact]
    public void Random_text_always_yields_safe_lines()
    {
        var random = new Random(2812);
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        for (var i = 0; i < 3000; i++)
        {
            var text = RandomText(random);
            var maxLines = random.Next(1, 8);
            var nick = new string('N', random.Next(1, 31));
            var budget = IrcText.PayloadBudget(nick.Length, "PRIVMSG", Channel);
            var pieces = IrcText.Split(text, budget, maxLines);

            Assert.True(pieces.Count <= maxLines);
            foreach (var piece in pieces)
            {
                Assert.NotEmpty(piece);
                var line = $":{nick}!{new string('u', 10)}@{new string('h', 63)} PRIVMSG {Channel} :{piece}\r\n";
                var bytes = strict.GetBytes(line); // throws on lone surrogates
                Assert.True(bytes.Length <= 512, $"{bytes.Length} bytes");
                Assert.Equal(line, strict.GetString(bytes));
                Assert.DoesNotContain('\r', piece);
                Assert.DoesNotContain('\n', piece);
                Assert.DoesNotContain('\0', piece);
                var parsed = IrcMessage.Parse(line)!;
                Assert.Equal(piece, parsed.Trailing);
            }
        }
    }

    [Fact]
    public void Truncate_respects_bytes_and_code_points()
    {
        Assert.Equal("ab", IrcText.Truncate("ab", 10));
        Assert.Equal("a", IrcText.Truncate("a😀", 4));
        Assert.Equal("a😀", IrcText.Truncate("a😀b", 5));
    }

    [Theory]
    [InlineData("Lars", "lars", true)]
    [InlineData("#Ops", "#ops", true)]
    [InlineData("a[]\\~", "A{}|^", true)]
    [InlineData("Lars", "Lars_", false)]
    public void Names_compare_with_rfc1459_casemapping(string a, string b, bool equal) =>
        Assert.Equal(equal, IrcText.NameEquals(a, b));

    private static string RandomText(Random random)
    {
        var length = random.Next(10) == 0 ? random.Next(0, 6000) : random.Next(0, 700);
        var sb = new StringBuilder(length);
        while (sb.Length < length)
        {
            switch (random.Next(12))
            {
                case 0: sb.Append("\r\n"); break;
                case 1: sb.Append(random.Next(3) switch { 0 => '\r', 1 => '\n', _ => '\0' }); break;
                case 2: sb.Append(' '); break;
                case 3: sb.Append(char.ConvertFromUtf32(random.Next(0x10000, 0x10FFFF))); break; // astral
                case 4: sb.Append((char)random.Next(0xD800, 0xE000)); break; // lone surrogate
                case 5: sb.Append((char)random.Next(0, 0x20)); break;
                case 6: sb.Append((char)random.Next(0x80, 0x800)); break;
                case 7: sb.Append((char)random.Next(0x800, 0xD800)); break;
                default: sb.Append((char)random.Next(0x21, 0x7F)); break;
            }
        }
        return sb.ToString();
    }

    [Fact]
    public void Quote_keeps_short_text_and_cuts_long_text_to_100_chars_ending_with_an_ellipsis()
    {
        Assert.Equal("db1: disk full", Wording.Quote("db1: disk full"));
        var exactly = new string('x', 100);
        Assert.Same(exactly, Wording.Quote(exactly));
        var cut = Wording.Quote(new string('y', 600));
        Assert.Equal(100, cut.Length);
        Assert.Equal(new string('y', 99) + "…", cut);
        // A space before the cut is not kept in front of the ellipsis.
        Assert.Equal(new string('z', 98) + "…", Wording.Quote(new string('z', 98) + " " + new string('w', 50)));
    }

    [Fact]
    public void Quote_never_cuts_inside_a_surrogate_pair_or_before_a_combining_mark()
    {
        // "😀" is two UTF-16 chars; placed so the 99-char budget would end between them.
        var emoji = Wording.Quote(new string('a', 98) + "😀" + new string('b', 50));
        Assert.Equal(new string('a', 98) + "…", emoji);
        var kept = Wording.Quote(new string('a', 97) + "😀" + new string('b', 50));
        Assert.Equal(new string('a', 97) + "😀…", kept);
        // "e" + combining acute: one character on screen, never split from its accent.
        var accent = Wording.Quote(new string('a', 98) + "e\u0301" + new string('b', 50));
        Assert.Equal(new string('a', 98) + "…", accent);
    }
}
