using System.Text;
using System.Threading.Channels;
using Larsbot.Irc;
using Xunit.Abstractions;

namespace Larsbot.Tests.Irc;

public sealed class IrcClientMessagingTests(ITestOutputHelper output) : IrcClientTestBase(output)
{
    [Fact]
    public async Task Registers_with_password_joins_says_and_quits_on_dispose()
    {
        await ReplaceServerAsync(password: "s3cret-pass");
        var (bot, log, joined) = StartBot(o => o.Password = "s3cret-pass");
        await joined.Task.WaitAsync(Timeout);
        Assert.True(bot.IsConnected);
        Assert.Equal("Lars", bot.CurrentNick);
        Assert.NotNull(bot.LastConnectedAt);

        var raw = await RawIrcClient.ConnectAsync(Server.Port, "Watcher", password: "s3cret-pass");
        OnCleanup(raw);
        await raw.JoinAsync(Chan);
        bot.Say("hello, ops");
        bot.Say("second line");

        var first = await raw.WaitForLineAsync(l => l.Contains("PRIVMSG #ops :"), Timeout);
        Assert.StartsWith(":Lars!", first);
        Assert.EndsWith(" PRIVMSG #ops :hello, ops", first);
        await raw.WaitForLineAsync(l => l.EndsWith("PRIVMSG #ops :second line"), Timeout);

        await bot.DisposeAsync();
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && RawIrcClient.Is(l, "QUIT"), Timeout);
        Assert.DoesNotContain(log.Entries, e => e.Contains("s3cret-pass"));
    }

    [Fact]
    public async Task A_paging_line_overtakes_chatter_waiting_for_the_flood_throttle()
    {
        var (bot, _, joined) = StartBot(o =>
        {
            o.FloodBurst = 1;
            o.FloodInterval = TimeSpan.FromMilliseconds(300);
        });
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        await joined.Task.WaitAsync(Timeout);

        for (var i = 1; i <= 4; i++) bot.Say($"help line {i}");
        bot.SayPaging("URGENT db1 - down");

        var urgent = await raw.WaitForLineAsync(l => l.EndsWith(":URGENT db1 - down"), Timeout);
        var last = await raw.WaitForLineAsync(l => l.EndsWith(":help line 4"), Timeout);
        // At most the first help line was out before the URGENT one was queued; at least two of the rest came after it.
        Assert.True(raw.LinesBetween(urgent, last).Count(l => l.Contains(":help line ")) >= 2);
    }

    [Fact]
    public async Task Line_breaks_and_nul_arrive_literally_without_injection()
    {
        var (bot, _, joined) = StartBot();
        var raw = await Raw("Watcher"); // registers while the bot does
        await raw.JoinAsync(Chan);
        await joined.Task.WaitAsync(Timeout);

        bot.Say("first\r\nPRIVMSG #ops :injected\0 QUIT :x\nMODE #ops +b *!*@*\rend");
        bot.Say("sentinel");

        var first = await raw.WaitForLineAsync(l => l.Contains("first"), Timeout);
        var sentinel = await raw.WaitForLineAsync(l => l.EndsWith(":sentinel"), Timeout);

        Assert.Equal(@"first\r\nPRIVMSG #ops :injected\0 QUIT :x\nMODE #ops +b *!*@*\rend", IrcMessage.Parse(first)!.Trailing);
        Assert.Empty(raw.LinesBetween(first, sentinel));
        Assert.Single(raw.Lines, l => l.Contains("injected"));
        Assert.True(bot.IsConnected);
    }

    [Fact]
    public async Task Long_multibyte_message_arrives_split_and_intact()
    {
        var (bot, _, joined) = StartBot(o =>
        {
            o.MaxLinesPerMessage = 20;
            o.FloodBurst = 20;
        });
        var raw = await Raw("Watcher"); // registers while the bot does
        await raw.JoinAsync(Chan);
        await joined.Task.WaitAsync(Timeout);

        var text = new StringBuilder();
        var units = new[] { "ä", "€", "😀", "x", "日本" };
        for (var i = 0; Encoding.UTF8.GetByteCount(text.ToString()) < 3000; i++)
            text.Append(units[i % units.Length]);
        bot.Say(text.ToString());

        var received = new StringBuilder();
        var pieces = 0;
        while (received.Length < text.Length)
        {
            var line = await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.Contains(" PRIVMSG "), Timeout);
            Assert.True(Encoding.UTF8.GetByteCount(line) + 2 <= 512);
            var piece = IrcMessage.Parse(line)!.Trailing!;
            Assert.DoesNotContain('\uFFFD', piece);
            received.Append(piece);
            pieces++;
        }

        Assert.Equal(text.ToString(), received.ToString());
        Assert.InRange(pieces, 7, 20);
        Assert.True(bot.IsConnected);
    }

    [Fact]
    public async Task Overlong_message_is_capped_with_an_ellipsis()
    {
        var (bot, _, joined) = StartBot();
        var raw = await Raw("Watcher"); // registers while the bot does
        await raw.JoinAsync(Chan);
        await joined.Task.WaitAsync(Timeout);

        bot.Say(new string('y', 5000));
        bot.Say("after");

        var after = await raw.WaitForLineAsync(l => l.EndsWith(":after"), Timeout);
        var pieces = raw.Lines.Where(l => l.StartsWith(":Lars!") && l.Contains(":yyy")).ToList();
        Assert.Equal(4, pieces.Count);
        Assert.EndsWith("…", pieces[^1]);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task Privmsgs_raise_MessageReceived_and_notices_and_ctcp_do_not()
    {
        var messages = Channel.CreateUnbounded<ChannelMessage>();
        var (bot, _, joined) = StartBot(o => { }, b => b.MessageReceived += m => messages.Writer.WriteAsync(m).AsTask());
        var raw = await Raw("Alice"); // registers while the bot does
        await raw.JoinAsync(Chan);
        await joined.Task.WaitAsync(Timeout);

        await raw.SendAsync($"NOTICE {Chan} :a notice");
        await raw.SendAsync("NOTICE Lars :a private notice");
        await raw.SendAsync("PRIVMSG Lars :\u0001VERSION\u0001");
        await raw.SendAsync($"PRIVMSG {Chan} :ack 42");
        await raw.SendAsync("PRIVMSG Lars :a private word");
        await raw.SendAsync($"PRIVMSG {Chan} :last");

        var got = new List<ChannelMessage>();
        for (var i = 0; i < 3; i++)
            got.Add(await messages.Reader.ReadAsync().AsTask().WaitAsync(Timeout));

        Assert.Equal(["ack 42", "a private word", "last"], got.Select(m => m.Text));
        var first = got[0];
        Assert.Equal("Alice", first.Nick);
        Assert.EndsWith("alice", first.User);
        Assert.Equal("127.0.0.1", first.Host);
        Assert.Equal(Chan, first.Target);
        Assert.Null(first.Account);
        Assert.False(first.IsPrivate);
        Assert.True(got[1].IsPrivate);

        // Nothing was said back to the notices or the CTCP.
        bot.Say("sentinel");
        await raw.WaitForLineAsync(l => l.EndsWith(":sentinel"), Timeout);
        // (The bot's JOIN may be in the log too, when Alice happened to join first.)
        Assert.Single(raw.Lines, l => l.StartsWith(":Lars!") && (RawIrcClient.Is(l, "PRIVMSG") || RawIrcClient.Is(l, "NOTICE")));
        Assert.False(messages.Reader.TryRead(out _));
    }
}
