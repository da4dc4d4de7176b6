using Dapper;
using Larsbot.Intake;
using static Larsbot.Tests.Ledger.LedgerHarness;

namespace Larsbot.Tests.Ledger;

/// <summary>
/// When ack mode ends with a keyed urgent alert still open, the engine reopens it into a fresh countdown through
/// countdown_reopens; alerts.countdown_id keeps pointing at the first one. The ledger, the reminder and `lars report`
/// must follow the alert into the countdown that paged.
/// </summary>
public class ReopenedPageTests
{
    private const string Key = "db1-disk";

    /// <summary>brong on duty from 1 Nov 08:00; at 10:00 on 2 Nov keyed alert 1 (db1: disk full) starts countdown #1.</summary>
    private static async Task<(LedgerHarness H, long AlertId)> AlertCountingAsync()
    {
        var h = new LedgerHarness(Mel(2026, 11, 1, 8));
        await h.SayAsync("brong", "lars duty take");
        await h.AtAsync(Mel(2026, 11, 2, 10));
        var r = await h.Engine.Intake.AcceptAsync(new AlertInput("db1", "urgent", "disk full") { Key = Key }, "test");
        Assert.True(r.Ok, r.Error);
        return (h, r.Id!.Value);
    }

    /// <summary>Ack mode runs out with the alert still open: it is reopened into a new countdown, which pages brong, and he acks.</summary>
    private static async Task ReopenedPagedAndAckedAsync(LedgerHarness h)
    {
        await h.Engine.AdvanceAsync(h.Engine.Options.AckModeFor);
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(30));
        Assert.True(await h.SendOutboxAsync() > 0);
        await h.SayAsync("brong", "lars ack");
        // Resolved, so the next ack mode's end does not reopen it a third time.
        Assert.True((await h.Engine.Intake.RecordEventAsync("resolve", Key, null, null, "test")).Ok);
        await h.Engine.Engine.RunDueAsync();
        h.Engine.Channel.Take();
    }

    private static Task<List<(long CountdownId, long AlertId)>> ReopensAsync(LedgerHarness h) =>
        h.Engine.Db.ReadAsync(async c => (await c.QueryAsync<(long, long)>("SELECT countdown_id, alert_id FROM countdown_reopens")).ToList());

    [Fact]
    public async Task A_page_that_only_holds_a_reopened_alert_is_named_by_it_and_its_report_releases_the_bonus()
    {
        var (h, alertId) = await AlertCountingAsync();
        using var _ = h;
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(10));
        await h.SayAsync("brong", "lars ack"); // during the countdown: #1 never paged
        await ReopenedPagedAndAckedAsync(h);
        Assert.Equal([(2L, alertId)], await ReopensAsync(h));

        var (_, pages) = await h.Engine.Db.ReadAsync(c => h.Ledger.FactsAsync(c));
        var page = Assert.Single(pages);
        Assert.Equal((2L, alertId, "db1: disk full", "brong"), (page.CountdownId, page.AlertId, page.Summary, page.AckPerson));

        Assert.Equal(1, await h.Payouts.RemindAsync());
        Assert.Equal([$"brong: incident report missing for page #2 (db1: disk full, 2026-11-02); your AUD 20.00 bonus is held until 'lars report {alertId} <text or URL>'"],
            h.Engine.Channel.Take());

        await h.SayAsync("brong", $"lars report {alertId} disk cleaned, then it filled again; moved the logs");
        Assert.Equal(["report: thanks brong, incident report filed for page #2; your AUD 20.00 page bonus is released."], h.Engine.Channel.Take());

        await h.AtAsync(Mel(2026, 11, 3, 9));
        Assert.Equal(0, await h.Payouts.RemindAsync());
        await h.Ledger.SettleAsync(h.Clock.GetUtcNow());
        var bonus = await h.Engine.Db.ReadAsync(c => c.QueryAsync<(string, string, long)>("SELECT kind, amount, countdown_id FROM ledger_entries WHERE kind LIKE 'bonus%'"));
        Assert.Equal([("bonus_paid", "20.00", 2L)], bonus);
        Assert.Empty(await h.Ledger.VerifyAsync(h.Clock.GetUtcNow()));
    }

    [Fact]
    public async Task An_alert_in_two_pages_releases_both_bonuses_one_report_each_newest_first()
    {
        var (h, alertId) = await AlertCountingAsync();
        using var _ = h;
        await h.Engine.AdvanceAsync(TimeSpan.FromSeconds(30));
        Assert.True(await h.SendOutboxAsync() > 0);
        await h.Engine.AdvanceAsync(TimeSpan.FromMinutes(1));
        await h.SayAsync("brong", "lars ack"); // #1 paged and acked
        await ReopenedPagedAndAckedAsync(h); // #2 paged and acked, for the same alert
        Assert.Equal([(2L, alertId)], await ReopensAsync(h));

        var (_, pages) = await h.Engine.Db.ReadAsync(c => h.Ledger.FactsAsync(c));
        Assert.Equal([(1L, alertId), (2L, alertId)], pages.Select(p => (p.CountdownId, p.AlertId)));

        // Each report goes to a page brong acked and has not reported yet, the newest first.
        await h.SayAsync("brong", $"lars report {alertId} second time: the cleanup cron was off");
        await h.SayAsync("brong", $"lars report {alertId} first time: rotated the logs");
        Assert.Equal([
            "report: thanks brong, incident report filed for page #2; your AUD 20.00 page bonus is released.",
            "report: thanks brong, incident report filed for page #1; your AUD 20.00 page bonus is released.",
        ], h.Engine.Channel.Take());

        var filed = await h.Engine.Db.ReadAsync(c => c.QueryAsync<long>("SELECT countdown_id FROM incident_reports ORDER BY id"));
        Assert.Equal([2L, 1L], filed);
        await h.AtAsync(Mel(2026, 11, 3, 9));
        Assert.Equal(0, await h.Payouts.RemindAsync());
    }
}
