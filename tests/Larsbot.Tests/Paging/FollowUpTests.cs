using Dapper;
using Larsbot.Paging;
using Larsbot.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Larsbot.Tests.Paging;

/// <summary>The people woken hear the outcome: one follow-up each, on the channel that reached them, never ringing.</summary>
public class FollowUpTests
{
    private static OutboxSender Sender(EngineHarness h, params Larsbot.Notify.INotifier[] notifiers) =>
        h.Sender(notifiers);

    private static async Task SendAllAsync(EngineHarness h, OutboxSender sender)
    {
        for (var i = 0; i < 20 && await h.Db.ReadAsync(c => c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM pages WHERE state = 'due'")) > 0; i++)
        {
            await sender.SendDueAsync(CancellationToken.None);
            await sender.DrainAsync();
        }
    }

    private static Task<List<PageRow>> FollowUpsAsync(EngineHarness h) =>
        h.Db.ReadAsync(async c => (await c.QueryAsync<PageRow>("SELECT * FROM pages WHERE stage = 'followup' ORDER BY person_id")).ToList());

    /// <summary>brong on duty is paged (SMS and push), nobody acks, everybody is paged; everything is sent.</summary>
    private static async Task<(EngineHarness H, ScriptedNotifier Sms, ScriptedNotifier Push, OutboxSender Sender)> EveryonePagedAsync(PagingOptions? options = null)
    {
        var h = new EngineHarness(options: options);
        await h.TakeDutyAsync("brong", "brong");
        await h.AlertAsync("db1", "disk / at 99%");
        await h.AdvanceAsync(h.Options.Countdown + h.Options.EscalateAfter);
        var sms = new ScriptedNotifier("sms");
        var push = new ScriptedNotifier("push");
        var sender = Sender(h, sms, push);
        await SendAllAsync(h, sender);
        h.Channel.Take();
        return (h, sms, push, sender);
    }

    [Fact]
    public async Task After_an_ack_everyone_paged_but_the_acker_gets_one_follow_up_on_the_channel_that_reached_them()
    {
        var (h, sms, push, sender) = await EveryonePagedAsync();
        using var _ = h;
        var pagedSms = sms.Calls.Count;
        var pagedPush = push.Calls.Count;
        await h.AckAsync("robn");
        await SendAllAsync(h, sender);

        // brong and neilj were paged (robn acked): one each, by SMS (neilj has no Pushover; brong's SMS reached them).
        var followUps = sms.Calls.Skip(pagedSms).ToList();
        Assert.Equal(["brong", "neilj"], followUps.Select(f => f.PersonId).Order());
        // The time is each reader's own: brong in Melbourne, neilj in Oslo.
        Assert.All(followUps, f => Assert.Equal($"lars: robn has it (acked {Local(h, f.PersonId)}) - db1: disk / at 99%", f.Body));
        Assert.NotEqual(Local(h, "brong"), Local(h, "neilj"));
        Assert.All(followUps, f => Assert.False(f.Urgent));
        Assert.Equal(pagedPush, push.Calls.Count);
        Assert.All(await FollowUpsAsync(h), p => Assert.Equal("sent", p.State));
    }

    private static string Local(EngineHarness h, string personId) =>
        TimeZoneInfo.ConvertTime(h.Clock.GetUtcNow(), h.Roster.FindById(personId)!.TimeZone).ToString("HH:mm");

    [Fact]
    public async Task A_resolve_tells_everyone_paged_including_whoever_would_have_acked()
    {
        var h = new EngineHarness();
        using var _ = h;
        await h.TakeDutyAsync("brong", "brong");
        await h.Intake.AcceptAsync(new Larsbot.Intake.AlertInput("db1", "urgent", "disk / at 99%") { Key = "db1-disk" }, "test");
        await h.AdvanceAsync(h.Options.Countdown);
        var sms = new ScriptedNotifier("sms");
        var push = new ScriptedNotifier("push");
        var sender = Sender(h, sms, push);
        await SendAllAsync(h, sender);

        await h.Intake.RecordEventAsync("resolve", "db1-disk", null, null, "test");
        await h.Engine.RunDueAsync();
        await SendAllAsync(h, sender);
        var followUp = Assert.Single(await FollowUpsAsync(h));
        Assert.Equal(("brong", "sms", "lars: resolved - db1: disk / at 99%"), (followUp.PersonId, followUp.Channel, followUp.Body));
        Assert.Equal("lars: resolved - db1: disk / at 99%", sms.Calls[^1].Body);
    }

    [Fact]
    public async Task Nobody_is_told_about_a_countdown_acked_before_it_paged_and_the_setting_turns_it_off()
    {
        using (var h = new EngineHarness())
        {
            await h.AlertAsync("db1", "disk / at 99%");
            await h.AdvanceAsync(TimeSpan.FromSeconds(10));
            await h.AckAsync("brong");
            Assert.Empty(await FollowUpsAsync(h));
        }

        var (h2, _, _, _) = await EveryonePagedAsync(new PagingOptions { TellPagedOnAck = false });
        using (h2)
        {
            await h2.AckAsync("robn");
            Assert.Empty(await FollowUpsAsync(h2));
        }
    }

    [Fact]
    public async Task A_follow_up_is_not_purged_by_the_closed_countdown_it_reports_and_survives_a_crash()
    {
        var (h, sms, _, _) = await EveryonePagedAsync();
        using var _h = h;
        await h.AckAsync("robn");
        // The sender claims the follow-ups and the process dies mid-send.
        var held = new GatedNotifier("sms");
        await Sender(h, held, new GatedNotifier("push")).SendDueAsync(CancellationToken.None);
        Assert.Equal(2, held.Calls.Count);

        var again = new ScriptedNotifier("sms");
        var restarted = Sender(h, again, new ScriptedNotifier("push"));
        await restarted.RecoverInterruptedAsync();
        await SendAllAsync(h, restarted);
        Assert.Equal(["brong", "neilj"], again.Calls.Select(c => c.PersonId).Order());
        Assert.All(await FollowUpsAsync(h), p => Assert.Equal("sent", p.State));
    }
}
