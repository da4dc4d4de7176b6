using Larsbot.Irc;
using Larsbot.Notify;
using Larsbot.Tests.Support;
using Xunit.Abstractions;

namespace Larsbot.Tests.Irc;

/// <summary>
/// IrcNotifier against a real ngircd. NotifierKit does not fit: every test there is about an HTTP provider (a base
/// URL, scripted status codes, Retry-After, cut-off bodies, timeouts). What it asks of every notifier and does apply
/// here is checked here: its channel, a clean one-line Detail, the caller's cancellation honoured, and a Retry that
/// says whether the line may have gone out.
/// </summary>
public sealed class IrcNotifierTests(ITestOutputHelper output) : IrcClientTestBase(output)
{
    private static PageMessage Line(string body, bool urgent = true) => new("", "#ops", "line", body) { Channel = "irc", Urgent = urgent };

    private static PageMessage Topic(string topic) => new("", "#ops", IrcNotifier.TopicTitle, topic) { Channel = "irc" };

    [Fact]
    public void Serves_the_irc_channel() => Assert.Equal("irc", new IrcNotifier(new RecordingChannel()).Channel);

    [Fact]
    public async Task A_topic_row_sets_the_topic_and_other_rows_are_said_one_line_each()
    {
        var (bot, _, joined) = StartBot(); // first in the channel, so an operator
        await joined.Task.WaitAsync(Timeout);
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        var notifier = new IrcNotifier(bot);

        var topic = await notifier.SendAsync(Topic("On call: alice"), CancellationToken.None);
        AssertClean(topic);
        Assert.Equal(SendOutcome.Sent, topic.Outcome);
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && RawIrcClient.Is(l, "TOPIC") && l.EndsWith(":On call: alice"), Timeout);

        var chatter = await notifier.SendAsync(Line("brong has it\nfor now", urgent: false), CancellationToken.None);
        var page = await notifier.SendAsync(Line("URGENT db1 - down"), CancellationToken.None);
        AssertClean(chatter);
        AssertClean(page);
        Assert.Equal(SendOutcome.Sent, chatter.Outcome);
        Assert.Equal(SendOutcome.Sent, page.Outcome);
        Assert.Equal("irc", page.ProviderId);
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":URGENT db1 - down"), Timeout);
        Assert.Equal([@"brong has it\nfor now", "URGENT db1 - down"], SaidBy("Lars", raw));
        await Eventually.TrueAsync(() => bot.CurrentTopic == "On call: alice"); // the bot hears its TOPIC echoed a moment apart from Watcher
    }

    [Fact]
    public async Task A_line_dropped_from_the_full_queue_is_a_Retry_that_was_not_delivered()
    {
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        var (bot, held, gate) = StartHeldBot(o => o.SayQueueLimit = 1);
        await held.Task.WaitAsync(Timeout);
        var notifier = new IrcNotifier(bot);

        var first = notifier.SendAsync(Line("URGENT db1 - down"), CancellationToken.None);
        var second = notifier.SendAsync(Line("URGENT web1 - down"), CancellationToken.None);
        var dropped = await first.WaitAsync(Timeout);

        AssertClean(dropped);
        Assert.Equal(SendOutcome.Retry, dropped.Outcome);
        Assert.False(dropped.MayHaveBeenDelivered);
        Assert.Null(dropped.ProviderId);
        Assert.Equal("line dropped from the IRC queue", dropped.Detail);

        gate.SetResult();
        Assert.Equal(SendOutcome.Sent, (await second.WaitAsync(Timeout)).Outcome);
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":URGENT web1 - down"), Timeout);
        Assert.Equal(["URGENT web1 - down"], SaidBy("Lars", raw));
    }

    [Fact]
    public async Task Caller_cancelling_before_the_line_is_said_gets_OperationCanceledException_and_it_is_never_said()
    {
        var raw = await Raw("Watcher");
        await raw.JoinAsync(Chan);
        var (bot, held, gate) = StartHeldBot();
        await held.Task.WaitAsync(Timeout);
        var notifier = new IrcNotifier(bot);
        using var cts = new CancellationTokenSource();

        var cancelled = notifier.SendAsync(Line("URGENT never said"), cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Timeout));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => notifier.SendAsync(Topic("never set"), cts.Token));

        gate.SetResult();
        Assert.Equal(SendOutcome.Sent, (await notifier.SendAsync(Line("URGENT said"), CancellationToken.None).WaitAsync(Timeout)).Outcome);
        await raw.WaitForLineAsync(l => l.StartsWith(":Lars!") && l.EndsWith(":URGENT said"), Timeout);
        Assert.Equal(["URGENT said"], SaidBy("Lars", raw));
        Assert.DoesNotContain(raw.Lines, l => l.Contains("never set"));
    }

    [Fact]
    public async Task Through_a_channel_that_says_at_once_the_default_SayLineAsync_reports_it_said()
    {
        var channel = new RecordingChannel();
        var notifier = new IrcNotifier(channel);

        Assert.Equal(SendOutcome.Sent, (await notifier.SendAsync(Topic("On call: bob"), CancellationToken.None)).Outcome);
        Assert.Equal(SendOutcome.Sent, (await notifier.SendAsync(Line("URGENT db1 - down"), CancellationToken.None)).Outcome);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => notifier.SendAsync(Line("not said"), cts.Token));

        Assert.Equal("On call: bob", channel.Topic);
        Assert.Equal(["URGENT db1 - down"], channel.Lines);
    }

    private static void AssertClean(SendResult result)
    {
        Assert.False(string.IsNullOrWhiteSpace(result.Detail));
        Assert.DoesNotContain('\n', result.Detail);
        Assert.DoesNotContain('\r', result.Detail);
    }
}
