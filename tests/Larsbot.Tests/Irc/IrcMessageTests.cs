using Larsbot.Irc;

namespace Larsbot.Tests.Irc;

public class IrcMessageTests
{
    [Fact]
    public void Parses_tags_prefix_command_params_and_trailing()
    {
        var m = IrcMessage.Parse("@account=alice;time=2026-01-01T00:00:00Z;flag :alice!~al@host.example PRIVMSG #ops :hello: world :)\r\n")!;

        Assert.Equal("alice", m.Tags["account"]);
        Assert.Equal("2026-01-01T00:00:00Z", m.Tags["time"]);
        Assert.Equal("", m.Tags["flag"]);
        Assert.Equal("alice!~al@host.example", m.Prefix);
        Assert.Equal(("alice", "~al", "host.example"), (m.Nick, m.User, m.Host));
        Assert.Equal("PRIVMSG", m.Command);
        Assert.Equal(["#ops", "hello: world :)"], m.Params);
        Assert.Equal("hello: world :)", m.Trailing);
    }

    [Fact]
    public void Unescapes_tag_values()
    {
        var m = IrcMessage.Parse(@"@k=a\:b\sc\\d\re\nf\xg\ PING x")!;
        Assert.Equal("a;b c\\d\re\nfxg", m.Tags["k"]);
    }

    [Fact]
    public void Tag_escaping_round_trips()
    {
        var value = "a;b c\\d\re\nf";
        Assert.Equal(value, IrcMessage.UnescapeTagValue(IrcMessage.EscapeTagValue(value)));
    }

    [Fact]
    public void Authenticate_plus_is_a_trailing_parameter()
    {
        var m = IrcMessage.Parse("AUTHENTICATE :+")!;
        Assert.Equal("AUTHENTICATE", m.Command);
        Assert.Equal(["+"], m.Params);
        Assert.Null(m.Prefix);
    }

    [Fact]
    public void Parses_numerics_with_server_prefix()
    {
        var m = IrcMessage.Parse(":irc.test 433 * Lars :Nickname already in use")!;
        Assert.True(m.IsNumeric);
        Assert.Equal("433", m.Command);
        Assert.Equal("irc.test", m.Nick);
        Assert.Null(m.User);
        Assert.Null(m.Host);
        Assert.Equal(["*", "Lars", "Nickname already in use"], m.Params);
    }

    [Fact]
    public void Middle_params_without_trailing_and_lowercase_command()
    {
        var m = IrcMessage.Parse(":n!u@h mode #ops +o  Lars")!;
        Assert.Equal("MODE", m.Command);
        Assert.Equal(["#ops", "+o", "Lars"], m.Params);
        Assert.False(m.IsNumeric);
    }

    [Fact]
    public void Empty_trailing_is_kept()
    {
        var m = IrcMessage.Parse(":n!u@h TOPIC #ops :")!;
        Assert.Equal(["#ops", ""], m.Params);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("\r\n")]
    [InlineData("   ")]
    [InlineData("@")]
    [InlineData("@tags-only")]
    [InlineData(":prefixonly")]
    [InlineData(": ")]
    [InlineData("@a=b :prefix")]
    [InlineData("@a=b :prefix ")]
    public void Garbage_without_a_command_is_null(string? line) => Assert.Null(IrcMessage.Parse(line));

    [Fact]
    public void Never_throws_on_random_input()
    {
        var random = new Random(1459);
        const string alphabet = "@:;=! \\\r\n\0#abcPRIVMSG 0123é😀";
        for (var i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(0, 40)];
            for (var j = 0; j < chars.Length; j++)
                chars[j] = random.Next(10) == 0 ? (char)random.Next(0, 0xFFFF) : alphabet[random.Next(alphabet.Length)];
            var m = IrcMessage.Parse(new string(chars));
            if (m is not null)
            {
                Assert.NotEmpty(m.Command);
                _ = m.ToString();
            }
        }
    }

    [Theory]
    [InlineData("PRIVMSG #ops :hello world", "PRIVMSG", new[] { "#ops", "hello world" })]
    [InlineData("PRIVMSG #ops ::-)", "PRIVMSG", new[] { "#ops", ":-)" })]
    [InlineData("TOPIC #ops :", "TOPIC", new[] { "#ops", "" })]
    [InlineData("NICK Lars", "NICK", new[] { "Lars" })]
    [InlineData("USER larsbot 0 * :Larsbot pager", "USER", new[] { "larsbot", "0", "*", "Larsbot pager" })]
    public void Formats_trailing_only_when_needed(string expected, string command, string[] parameters) =>
        Assert.Equal(expected, new IrcMessage(command, parameters).ToString());

    [Fact]
    public void Format_then_parse_round_trips()
    {
        var tags = new Dictionary<string, string> { ["account"] = "bob", ["x"] = "a b;c" };
        var original = new IrcMessage(tags, "bob!b@h", "PRIVMSG", ["#ops", "hi there :)"]);
        var parsed = IrcMessage.Parse(original.ToString())!;
        Assert.Equal(original.ToString(), parsed.ToString());
        Assert.Equal("a b;c", parsed.Tags["x"]);
    }
}
