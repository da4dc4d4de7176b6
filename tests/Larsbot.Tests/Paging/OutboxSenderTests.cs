using Dapper;
using Larsbot.Notify;
using Larsbot.Paging;
using Larsbot.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Larsbot.Tests.Paging;

public class OutboxSenderTests
{
    private static async Task<(EngineHarness H, OutboxSender Sender)> PagedAsync(ScriptedNotifier sms, ScriptedNotifier push)
    {
        var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        await h.AlertAsync("gateway2", "rblcheck: listed");
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));
        h.Channel.Take();
        var sender = h.Sender([sms, push]);
        return (h, sender);
    }

    private static async Task PassAsync(OutboxSender sender)
    {
        await sender.SendDueAsync(CancellationToken.None);
        await sender.DrainAsync();
    }

    [Fact]
    public async Task Due_pages_go_out_once_and_are_recorded_with_the_provider_id()
    {
        var sms = new ScriptedNotifier("sms");
        var push = new ScriptedNotifier("push");
        var (h, sender) = await PagedAsync(sms, push);
        using var _ = h;
        await PassAsync(sender);
        await PassAsync(sender);

        var call = Assert.Single(sms.Calls);
        Assert.Equal(new PageMessage("brong", "+61400000001", "Larsbot: URGENT", "gateway2: rblcheck: listed"), call);
        Assert.Equal("uQiRzpo4DXghDmr9QzzfQu27cmVRsG", Assert.Single(push.Calls).Destination);
        var pages = await h.PagesAsync();
        Assert.All(pages, p => Assert.Equal("sent", p.State));
        Assert.Equal(["sms-1", "push-1"], pages.Select(p => p.ProviderId));
        var attempts = await h.Db.ReadAsync(c => c.QueryAsync<string>("SELECT outcome FROM page_attempts"));
        Assert.Equal(["sent", "sent"], attempts);
    }

    [Fact]
    public async Task With_every_slot_of_a_channel_busy_its_due_pages_wait_for_a_slot_rather_than_wake_the_loop_at_once()
    {
        // The first page and the everybody page: four SMS and three pushes due; Pushover has two slots.
        using var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        await h.AlertAsync("gateway2", "rblcheck: listed");
        await h.AdvanceAsync(TimeSpan.FromSeconds(30));
        await h.AdvanceAsync(h.Options.EscalateAfter);
        var sms = new GatedNotifier("sms");
        var push = new GatedNotifier("push");
        var sender = h.Sender([sms, push]);

        var next = await sender.SendDueAsync(CancellationToken.None);
        Assert.Equal(4, sms.Calls.Count); // Twilio's eight slots take every SMS at once
        Assert.Equal(2, push.Calls.Count);
        // What is left is due already, but no slot is free: the loop must sleep until a send ends (which wakes it).
        // A time in the past here made the sender's loop spin, hundreds of passes a second, for as long as sends lasted.
        Assert.True(next is null || next > h.Clock.GetUtcNow(), $"next look at {next}, now {h.Clock.GetUtcNow()}");

        sms.Release();
        push.Release();
        await sender.DrainAsync();
        await PassAsync(sender);
        Assert.Equal(4, sms.Calls.Count);
        Assert.Equal(3, push.Calls.Count);
    }

    [Fact]
    public async Task A_failing_provider_is_retried_with_backoff_and_never_blocks_the_other()
    {
        var sms = new ScriptedNotifier("sms", SendResult.Retry("Twilio 500", mayHaveBeenDelivered: true), SendResult.Retry("Twilio 503", mayHaveBeenDelivered: true));
        var push = new ScriptedNotifier("push");
        var (h, sender) = await PagedAsync(sms, push);
        using var _ = h;
        await PassAsync(sender);

        Assert.Single(push.Calls);
        var pages = await h.PagesAsync();
        Assert.Equal("sent", pages.Single(p => p.Channel == "push").State);
        var smsRow = pages.Single(p => p.Channel == "sms");
        Assert.Equal("due", smsRow.State);
        var wait = TimeSpan.FromMilliseconds(smsRow.NextAttemptAt - h.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        Assert.InRange(wait, h.OutboxOptions.RetryMinDelay * 0.75, h.OutboxOptions.RetryMinDelay * 1.25);
        Assert.Equal(["page problem: sms to brong failed (Twilio 500); retrying in " + Wording.Duration(wait) ], h.Channel.Take());

        // Not before its time.
        await PassAsync(sender);
        Assert.Single(sms.Calls);

        h.Clock.Advance(wait);
        await PassAsync(sender);
        Assert.Equal(2, sms.Calls.Count);
        // Second failure: longer backoff (doubling), and the channel is not told again.
        smsRow = (await h.PagesAsync()).Single(p => p.Channel == "sms");
        var wait2 = TimeSpan.FromMilliseconds(smsRow.NextAttemptAt - h.Clock.GetUtcNow().ToUnixTimeMilliseconds());
        Assert.InRange(wait2, h.OutboxOptions.RetryMinDelay * 1.5, h.OutboxOptions.RetryMinDelay * 2.5);
        Assert.Empty(h.Channel.Take());

        h.Clock.Advance(wait2);
        await PassAsync(sender);
        Assert.Equal(3, sms.Calls.Count);
        Assert.Equal("sent", (await h.PagesAsync()).Single(p => p.Channel == "sms").State);
        // Each 5xx/timeout retry may have been delivered already: counted, never silent.
        Assert.Equal(2, sender.DuplicateRiskCount);
    }

    [Fact]
    public async Task Retry_after_from_the_provider_is_honoured()
    {
        var sms = new ScriptedNotifier("sms", SendResult.Retry("Twilio 429", retryAfter: TimeSpan.FromSeconds(90)));
        var (h, sender) = await PagedAsync(sms, new ScriptedNotifier("push"));
        using var _ = h;
        await PassAsync(sender);
        var row = (await h.PagesAsync()).Single(p => p.Channel == "sms");
        Assert.Equal(h.Clock.GetUtcNow().AddSeconds(90).ToUnixTimeMilliseconds(), row.NextAttemptAt);
        Assert.Equal(0, sender.DuplicateRiskCount);
    }

    [Fact]
    public async Task A_permanent_failure_is_marked_failed_and_said_in_the_channel()
    {
        var sms = new ScriptedNotifier("sms", SendResult.GiveUp("Twilio 400 code 21211: invalid To"));
        var (h, sender) = await PagedAsync(sms, new ScriptedNotifier("push"));
        using var _ = h;
        await PassAsync(sender);
        h.Clock.Advance(TimeSpan.FromMinutes(10));
        await PassAsync(sender);
        Assert.Single(sms.Calls);
        Assert.Equal("failed", (await h.PagesAsync()).Single(p => p.Channel == "sms").State);
        Assert.Contains("page FAILED: sms to brong: Twilio 400 code 21211: invalid To", h.Channel.Take());
    }

    [Fact]
    public async Task An_ack_stops_retries_that_are_still_waiting()
    {
        var sms = new ScriptedNotifier("sms", SendResult.Retry("timeout", mayHaveBeenDelivered: true));
        var (h, sender) = await PagedAsync(sms, new ScriptedNotifier("push"));
        using var _ = h;
        await PassAsync(sender);
        await h.AckAsync("brong");
        h.Clock.Advance(TimeSpan.FromMinutes(10));
        await PassAsync(sender);
        Assert.Single(sms.Calls);
        Assert.Equal("purged", (await h.PagesAsync()).Single(p => p.Channel == "sms").State);
    }

    [Fact]
    public async Task A_page_left_sending_by_a_crash_is_sent_again_and_counted_as_a_possible_duplicate()
    {
        var sms = new ScriptedNotifier("sms");
        var push = new ScriptedNotifier("push");
        var (h, sender) = await PagedAsync(sms, push);
        using var _ = h;
        // What a kill -9 between "sending" and "sent" leaves behind.
        await h.Db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE outbox SET state = 'sending', attempts = 1 WHERE channel = 'sms'; INSERT INTO page_attempts(page_id, started_at) SELECT id, 0 FROM pages WHERE channel = 'sms'",
            transaction: tx));

        await sender.RecoverInterruptedAsync();
        Assert.Equal(1, sender.DuplicateRiskCount);
        await PassAsync(sender);
        Assert.Single(sms.Calls);
        Assert.All(await h.PagesAsync(), p => Assert.Equal("sent", p.State));
        var outcomes = await h.Db.ReadAsync(c => c.QueryAsync<string>("SELECT outcome FROM page_attempts WHERE page_id = (SELECT id FROM pages WHERE channel = 'sms') ORDER BY id"));
        Assert.Equal(["interrupted", "sent"], outcomes);
    }
}
