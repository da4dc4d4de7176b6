using Larsbot.Irc;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.Irc;

public sealed class IrcClientChannelTests(ITestOutputHelper output) : IrcClientTestBase(output)
{
    [Fact]
    public async Task Nick_in_use_takes_an_alternate_and_regains_it_later()
    {
        var holder = await Raw("Lars");
        // Not every second: ngircd adds a penalty to each refused NICK, and a pile of them delays the bot's next
        // commands by many seconds on a loaded machine.
        var (bot, _, joined) = StartBot(o => o.NickRegainInterval = TimeSpan.FromSeconds(3));
        await joined.Task.WaitAsync(Timeout);
        Assert.Equal("Lars_", bot.CurrentNick);

        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        bot.Say("working anyway");
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars_!") && l.EndsWith(":working anyway"), Timeout);

        await holder.SendAsync("QUIT :gone");
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars_!") && RawIrcClient.Is(l, "NICK") && l.EndsWith("Lars"), Timeout * 3);
        await Eventually.TrueAsync(() => bot.CurrentNick == "Lars", Timeout);
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
}
