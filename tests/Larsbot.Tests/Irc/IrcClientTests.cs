using System.Text;
using System.Threading.Channels;
using Larsbot.Irc;
using Xunit.Abstractions;

namespace Larsbot.Tests.Irc;

/// <summary>IrcClient against a real ngircd on loopback; each test owns its server.</summary>
public sealed class IrcClientTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const string Chan = "#ops";

    private NgircdServer _server = null!;
    private readonly List<IAsyncDisposable> _cleanup = [];

    public async Task InitializeAsync() => _server = await NgircdServer.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var item in Enumerable.Reverse(_cleanup))
            await item.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Registers_with_password_joins_says_and_quits_on_dispose()
    {
        await _server.DisposeAsync();
        _server = await NgircdServer.StartAsync(password: "s3cret-pass");
        var (bot, log, joined) = StartBot(o => o.Password = "s3cret-pass");
        await joined.Task.WaitAsync(Timeout);
        Assert.True(bot.IsConnected);
        Assert.Equal("Lars", bot.CurrentNick);
        Assert.NotNull(bot.LastConnectedAt);

        var raw = await RawIrcClient.ConnectAsync(_server.Port, "Watcher", password: "s3cret-pass");
        _cleanup.Add(raw);
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
    public async Task Line_breaks_and_nul_arrive_literally_without_injection()
    {
        var (bot, _, joined) = StartBot();
        await joined.Task.WaitAsync(Timeout);
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);

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
        await joined.Task.WaitAsync(Timeout);
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);

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
        await joined.Task.WaitAsync(Timeout);
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);

        bot.Say(new string('y', 5000));
        bot.Say("after");

        var after = await raw.WaitForLineAsync(l => l.EndsWith(":after"), Timeout);
        var pieces = raw.Lines.Where(l => l.StartsWith(":Lars!") && l.Contains(":yyy")).ToList();
        Assert.Equal(4, pieces.Count);
        Assert.EndsWith("…", pieces[^1]);
        Assert.NotNull(after);
    }

    [Fact]
    public async Task Nick_in_use_takes_an_alternate_and_regains_it_later()
    {
        var holder = await Raw("Lars");
        var (bot, _, joined) = StartBot(o => o.NickRegainInterval = TimeSpan.FromSeconds(1));
        await joined.Task.WaitAsync(Timeout);
        Assert.Equal("Lars_", bot.CurrentNick);

        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        bot.Say("working anyway");
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars_!") && l.EndsWith(":working anyway"), Timeout);

        await holder.SendAsync("QUIT :gone");
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars_!") && RawIrcClient.Is(l, "NICK") && l.EndsWith("Lars"), Timeout);
        await Eventually(() => bot.CurrentNick == "Lars");
        bot.Say("back to my name");
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":back to my name"), Timeout);
    }

    [Fact]
    public async Task Sets_topic_on_join_and_restores_it_when_changed()
    {
        var (bot, _, joined) = StartBot(o => { }, b => b.SetTopic("On call: alice"));
        await joined.Task.WaitAsync(Timeout);
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        await raw.SendAsync($"TOPIC {Chan}");
        // Either the topic query answer (332) or the bot's own TOPIC, whichever the race gives us.
        await raw.WaitForLineAsync(l => (RawIrcClient.Is(l, "332") || RawIrcClient.Is(l, "TOPIC")) && l.EndsWith(":On call: alice"), Timeout);

        await raw.SendAsync($"TOPIC {Chan} :hijacked");
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && RawIrcClient.Is(l, "TOPIC") && l.EndsWith(":On call: alice"), Timeout);
        Assert.Equal("On call: alice", bot.CurrentTopic);

        bot.SetTopic("On call: bob");
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && RawIrcClient.Is(l, "TOPIC") && l.EndsWith(":On call: bob"), Timeout);
    }

    [Fact]
    public async Task Without_operator_status_says_so_once_and_keeps_working()
    {
        var op = await Raw("Oper");
        await op.JoinAsync(Chan);
        await op.SendAsync($"MODE {Chan} +t");
        await op.WaitForLineAsync(l => RawIrcClient.Is(l, "MODE") && l.Contains("+t"), Timeout);

        var (bot, _, joined) = StartBot(o => { }, b => b.SetTopic("On call: alice"));
        await joined.Task.WaitAsync(Timeout);
        var complaint = await op.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":" + IrcClient.TopicRefusedText), Timeout);

        // Another refusal trigger: someone changes the topic, and a new desired topic is set. No retry, no repeat.
        await op.SendAsync($"TOPIC {Chan} :mine");
        bot.SetTopic("On call: bob");
        bot.Say("still here");
        var still = await op.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":still here"), Timeout);
        Assert.DoesNotContain(op.LinesBetween(complaint, still), l => l.StartsWith(":Lars!"));
        Assert.True(bot.IsConnected);

        // Once opped, it tries again.
        await op.SendAsync($"MODE {Chan} +o Lars");
        await op.WaitForLineAsync(l => l.StartsWith(":Lars!") && RawIrcClient.Is(l, "TOPIC") && l.EndsWith(":On call: bob"), Timeout);
        Assert.Single(op.Lines, l => l.Contains(IrcClient.TopicRefusedText));
    }

    [Fact]
    public async Task Privmsgs_raise_MessageReceived_and_notices_and_ctcp_do_not()
    {
        var messages = Channel.CreateUnbounded<ChannelMessage>();
        var (bot, _, joined) = StartBot(o => { }, b => b.MessageReceived += m => messages.Writer.WriteAsync(m).AsTask());
        await joined.Task.WaitAsync(Timeout);
        var raw = await Raw("Alice");
        await raw.JoinAsync(Chan);

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
        Assert.Single(raw.Lines, l => l.StartsWith(":Lars!"));
        Assert.False(messages.Reader.TryRead(out _));
    }

    [Fact]
    public async Task Reconnects_after_server_restart_and_delivers_queued_lines()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rejoined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var joins = 0;
        var (bot, _, joined) = StartBot(o => { }, b =>
        {
            b.Disconnected += () => { disconnected.TrySetResult(); return Task.CompletedTask; };
            // Hold the second join until the watcher is back in the channel, so it sees the backlog flushed.
            b.Joined += async () =>
            {
                if (Interlocked.Increment(ref joins) == 2)
                {
                    rejoined.TrySetResult();
                    await gate.Task.WaitAsync(Timeout);
                }
            };
        });
        await joined.Task.WaitAsync(Timeout);
        var firstConnect = bot.LastConnectedAt;

        await _server.StopAsync();
        await disconnected.Task.WaitAsync(Timeout);
        Assert.False(bot.IsConnected);
        bot.Say("queued while down");

        await _server.RestartAsync();
        await rejoined.Task.WaitAsync(Timeout);
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        gate.SetResult();

        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":queued while down"), Timeout);
        Assert.True(bot.IsConnected);
        Assert.Equal(2, joins);
        Assert.True(bot.LastConnectedAt > firstConnect);
    }

    [Fact]
    public async Task Rejoins_after_a_kick()
    {
        var op = await Raw("Oper");
        await op.JoinAsync(Chan);
        var joins = 0;
        var rejoined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (bot, _, joined) = StartBot(o => { }, b => b.Joined += () =>
        {
            if (Interlocked.Increment(ref joins) == 2)
                rejoined.TrySetResult();
            return Task.CompletedTask;
        });
        await joined.Task.WaitAsync(Timeout);

        await op.SendAsync($"KICK {Chan} Lars :out");
        await rejoined.Task.WaitAsync(Timeout);
        Assert.True(bot.IsConnected);
        bot.Say("back");
        await op.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":back"), Timeout);
    }

    /// <summary>For state the bot updates a moment after the server tells everyone (no event to await).</summary>
    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(deadline) < Timeout, "condition not met in time");
            await Task.Delay(10);
        }
    }

    private async Task<RawIrcClient> Raw(string nick)
    {
        var raw = await RawIrcClient.ConnectAsync(_server.Port, nick);
        _cleanup.Add(raw);
        return raw;
    }

    private (IrcClient Bot, TestLogger<IrcClient> Log, TaskCompletionSource Joined) StartBot(
        Action<IrcOptions>? configure = null, Action<IrcClient>? before = null)
    {
        var options = new IrcOptions
        {
            Server = _server.Host,
            Port = _server.Port,
            Nick = "Lars",
            Channel = Chan,
            FloodBurst = 10,
            FloodInterval = TimeSpan.FromMilliseconds(50),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
            RejoinDelay = TimeSpan.FromMilliseconds(100),
            PingIdle = TimeSpan.FromSeconds(30),
        };
        configure?.Invoke(options);
        var log = new TestLogger<IrcClient>(output);
        var bot = new IrcClient(options, TimeProvider.System, log);
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bot.Joined += () => { joined.TrySetResult(); return Task.CompletedTask; };
        before?.Invoke(bot);
        var run = bot.RunAsync(CancellationToken.None);
        _cleanup.Add(new AsyncCleanup(async () =>
        {
            await bot.DisposeAsync();
            await run.WaitAsync(Timeout);
        }));
        return (bot, log, joined);
    }

    private sealed class AsyncCleanup(Func<Task> action) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await action();
    }
}
