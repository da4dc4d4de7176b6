using Dapper;
using Larsbot.Paging;
using Larsbot.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Larsbot.Tests.Paging;

/// <summary>After an ack nothing new goes out: pages not on the wire are purged, emergency pushes stop ringing.</summary>
public class AckStopsEveryPageTests
{
    private static OutboxSender Sender(EngineHarness h, params Larsbot.Notify.INotifier[] notifiers) =>
        h.Sender(notifiers);

    /// <summary>Runs the sender the way its loop does (a pass, then another whenever a send finished) until nothing is left to start.</summary>
    private static async Task SettleAsync(EngineHarness h, OutboxSender sender)
    {
        for (var i = 0; i < 100; i++)
        {
            await sender.SendDueAsync(CancellationToken.None);
            await sender.DrainAsync();
            var due = await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>(
                "SELECT (SELECT COUNT(*) FROM pages WHERE state = 'due') + (SELECT COUNT(*) FROM receipt_cancels WHERE state IN ('due', 'sending'))"));
            if (due == 0) return;
        }
        throw new InvalidOperationException("the outbox never settled");
    }

    private static async Task<EngineHarness> EveryonePagedAsync(int people)
    {
        var h = new EngineHarness(roster: TestRoster.Large(people));
        await h.AlertAsync("db1", "disk / at 99%");
        await h.AdvanceAsync(h.Options.Countdown); // nobody on duty: everybody is paged at once
        h.Channel.Take();
        return h;
    }

    private static Task<List<string>> StatesAsync(EngineHarness h, bool pagesOnly = false) =>
        h.Db.ReadAsync(async c => (await c.QueryAsync<string>(
            "SELECT state FROM pages" + (pagesOnly ? " WHERE stage <> 'followup'" : "") + " ORDER BY id")).ToList());

    /// <summary>The pages a notifier was asked to send, follow-ups ("p3 has it") left out.</summary>
    private static List<Larsbot.Notify.PageMessage> Pages(GatedNotifier n) => n.Calls.Where(c => c.Urgent).ToList();

    [Fact]
    public async Task An_ack_during_an_everyone_page_stops_every_page_not_already_on_the_wire()
    {
        using var h = await EveryonePagedAsync(11);
        var sms = new GatedNotifier("sms");
        var push = new GatedNotifier("push");
        var sender = Sender(h, sms, push);

        await sender.SendDueAsync(CancellationToken.None);
        // Claimed no more than the slots: 8 SMS (Twilio's slots) and 2 pushes (Pushover's) on the wire, the other 12
        // of the 22 pages still 'due' in the file.
        Assert.Equal(8, OutboxSender.TwilioSlots);
        Assert.Equal(2, OutboxSender.SlotsPerChannel);
        Assert.Equal(8, sms.Calls.Count);
        Assert.Equal(2, push.Calls.Count);
        Assert.Equal(10, (await StatesAsync(h)).Count(s => s == "sending"));
        Assert.Equal(12, (await StatesAsync(h)).Count(s => s == "due"));

        await h.AckAsync("p9");
        sms.Release();
        push.Release();
        await SettleAsync(h, sender);

        // The ten on the wire at the ack were delivered; no other page ever started. The eight people they reached
        // each get one follow-up (an SMS, not urgent): p9 has it.
        Assert.Equal(8, Pages(sms).Count);
        Assert.Equal(2, Pages(push).Count);
        var followUps = sms.Calls.Except(Pages(sms)).Concat(push.Calls.Except(Pages(push))).ToList();
        Assert.Equal(["p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"], followUps.Select(f => f.PersonId).Order());
        Assert.All(followUps, f => Assert.False(f.Urgent));
        Assert.All(followUps, f => Assert.StartsWith("lars: p9 has it (acked 03:00) - db1: disk / at 99%", f.Body));
        var states = await StatesAsync(h, pagesOnly: true);
        Assert.Equal(10, states.Count(s => s == "sent"));
        Assert.Equal(12, states.Count(s => s == "purged"));
    }

    [Fact]
    public async Task A_page_claimed_after_the_ack_committed_is_purged_in_the_claiming_transaction()
    {
        using var h = await EveryonePagedAsync(3);
        // The ack's purge ran, then (as a retry racing it would) a page is put back to 'due' for an acked countdown.
        await h.AckAsync("p1");
        await h.Db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE outbox SET state = 'due' WHERE id = 1", transaction: tx));
        var sms = new GatedNotifier("sms");
        sms.Release();
        var sender = Sender(h, sms, new GatedNotifier("push"));
        await SettleAsync(h, sender);
        Assert.Empty(sms.Calls);
        Assert.All(await StatesAsync(h), s => Assert.Equal("purged", s));
    }

    [Fact]
    public async Task After_a_crash_pages_left_sending_are_not_sent_again_when_their_countdown_was_acked()
    {
        using var h = await EveryonePagedAsync(5);
        var held = new GatedNotifier("sms"); // never released: the process dies with these on the wire
        await Sender(h, held, new GatedNotifier("push")).SendDueAsync(CancellationToken.None);
        Assert.Equal(7, (await StatesAsync(h)).Count(s => s == "sending")); // all five SMS, two of the five pushes
        await h.AckAsync("p2");

        // "Restart": a new sender on the same file finds the rows left 'sending'.
        var sms = new GatedNotifier("sms");
        var push = new GatedNotifier("push");
        sms.Release();
        push.Release();
        var restarted = Sender(h, sms, push);
        await restarted.RecoverInterruptedAsync();
        await SettleAsync(h, restarted);

        Assert.Empty(Pages(sms));
        Assert.Empty(Pages(push));
        Assert.All(await StatesAsync(h, pagesOnly: true), s => Assert.Equal("purged", s));
        // The people the interrupted pages may have reached are told p2 has it, once each.
        Assert.Equal(["p1", "p3", "p4", "p5"], sms.Calls.Select(f => f.PersonId).Order()); // p2 acked: not told what they did
        var outcomes = await h.Db.ReadAsync(c => c.QueryAsync<string>(
            "SELECT a.outcome FROM page_attempts a JOIN pages p ON p.id = a.page_id WHERE p.stage <> 'followup' ORDER BY a.id"));
        Assert.Equal(Enumerable.Repeat("interrupted", 7), outcomes);
        Assert.Equal(7, restarted.DuplicateRiskCount); // they may have reached the phones: counted, not repeated
    }

    [Fact]
    public async Task Emergency_pushes_still_ringing_when_the_ack_lands_are_cancelled_even_those_on_the_wire()
    {
        using var h = await EveryonePagedAsync(4);
        var sms = new GatedNotifier("sms");
        var push = new GatedNotifier("push", receipts: true);
        sms.Release();
        var sender = Sender(h, sms, push);
        // Two pushes delivered before the ack (ringing), two more on the wire when it lands.
        push.Release();
        await sender.SendDueAsync(CancellationToken.None);
        await sender.DrainAsync();
        var onTheWire = new GatedNotifier("push", receipts: true);
        var sender2 = Sender(h, sms, onTheWire);
        await sender2.SendDueAsync(CancellationToken.None);
        Assert.Equal(2, onTheWire.Calls.Count);

        await h.AckAsync("p1");
        await SettleAsync(h, sender); // cancels the two delivered ones
        Assert.Equal(["rpush-1", "rpush-2"], push.Cancels.Order());

        onTheWire.Release();
        await sender2.DrainAsync();
        await SettleAsync(h, sender2);
        Assert.Equal(["rpush-1", "rpush-2"], onTheWire.Cancels.Order()); // its own two receipts, once each
        var cancels = await h.Db.ReadAsync(c => c.QueryAsync<string>("SELECT state FROM receipt_cancels"));
        Assert.Equal(["done", "done", "done", "done"], cancels);
    }

    [Fact]
    public async Task Emergency_pushes_still_ringing_are_cancelled_when_the_alert_resolves_too()
    {
        using var h = new EngineHarness();
        await h.TakeDutyAsync("brong", "brong");
        await h.Intake.AcceptAsync(new Larsbot.Intake.AlertInput("db1", "urgent", "disk / at 99%") { Key = "db1-disk" }, "test");
        await h.AdvanceAsync(h.Options.Countdown);
        var sms = new GatedNotifier("sms");
        var push = new GatedNotifier("push", receipts: true);
        sms.Release();
        push.Release();
        var sender = Sender(h, sms, push);
        await SettleAsync(h, sender);
        Assert.Single(Pages(push));

        await h.Intake.RecordEventAsync("resolve", "db1-disk", null, null, "test");
        await h.Engine.RunDueAsync();
        await SettleAsync(h, sender);
        Assert.Equal(["rpush-1"], push.Cancels);
    }

    [Fact]
    public async Task A_late_or_repeated_pushover_ack_never_starts_or_renews_ack_mode()
    {
        using var h = await EveryonePagedAsync(2);
        var countdown = (await h.CountdownsAsync()).Single().Id;
        var p1 = h.Roster.FindById("p1")!;
        // The callback and the receipt poll arrive together: one acks, the other finds the page closed.
        var both = await Task.WhenAll(
            h.Acks.AckIfOpenAsync("p1 (pushover)", p1, "pushover", countdown),
            h.Acks.AckIfOpenAsync("p1 (pushover)", p1, "pushover", countdown));
        Assert.Equal(1, both.Count(acked => acked));

        // Ack mode ends; a callback repeated much later must not start it again.
        await h.AdvanceAsync(h.Options.AckModeFor);
        h.Channel.Take();
        Assert.False(await h.Acks.AckIfOpenAsync("p1 (pushover)", p1, "pushover", countdown));
        Assert.Empty(h.Channel.Take());
        var modes = await h.Db.ReadAsync(c => c.QueryAsync<long?>("SELECT ended_at FROM ack_modes"));
        Assert.NotNull(Assert.Single(modes));
        Assert.Equal(1, await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM acks")));
    }
}
